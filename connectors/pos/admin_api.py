"""The merchant's side of POS connections, under ``/api/v1/pos``: keys and redemption terms.

These calls take the merchant's API key (``hub_...``), like the rest of
``/api/v1``; a POS key is refused here.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from connectors.pos import keys
from connectors.pos.redemption import SETTING
from connectors.pos.redemption import RedemptionTermsSchema
from connectors.pos.redemption import load_terms
from hub import current_hub
from hub import record_audit

blp = Blueprint(
    "pos_admin", __name__, url_prefix="/pos", description="POS connections: keys and terms"
)


class PosKeyInSchema(Schema):
    name = fields.Str(load_default="", validate=validate.Length(max=100))


class PosKeySchema(Schema):
    id = fields.Int()
    connection_id = fields.Int()
    name = fields.Str()
    prefix = fields.Str()
    created_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)


class IssuedPosKeySchema(Schema):
    id = fields.Int()
    connection_id = fields.Int()
    name = fields.Str()
    prefix = fields.Str()
    key = fields.Str(metadata={"description": "The POS key; shown once, store it in the till."})


@blp.route("/connections/<int:connection_id>/keys")
class Keys(MethodView):
    @blp.response(200, PosKeySchema(many=True))
    def get(self, connection_id):
        """List the connection's POS keys (never the keys themselves)."""
        with current_hub().db.session() as session:
            return keys.list_keys(session, g.merchant_id, connection_id)

    @blp.arguments(PosKeyInSchema)
    @blp.response(201, IssuedPosKeySchema)
    def post(self, data, connection_id):
        """Make a key for this connection's tills; it is shown once.

        The key opens the counter API (``/pos/v1``) and the cashier page of
        this connection only. Earlier keys keep working until revoked.
        """
        with current_hub().db.transaction() as session:
            return keys.issue_key(
                session, g.merchant_id, connection_id, name=data["name"], actor=g.actor
            )


@blp.route("/connections/<int:connection_id>/keys/<int:key_id>")
class KeyById(MethodView):
    @blp.response(204)
    def delete(self, connection_id, key_id):
        """Revoke a key: tills using it answer 401 at once, cashier sessions end."""
        with current_hub().db.transaction() as session:
            keys.revoke_key(session, g.merchant_id, connection_id, key_id, actor=g.actor)


@blp.route("/connections/<int:connection_id>/redemption")
class Redemption(MethodView):
    @blp.response(200, RedemptionTermsSchema)
    def get(self, connection_id):
        """The terms of redeeming points as a discount at this connection's counters."""
        with current_hub().db.session() as session:
            connection = keys.pos_connection(session, g.merchant_id, connection_id)
            return load_terms((connection.settings or {}).get(SETTING))

    @blp.arguments(RedemptionTermsSchema)
    @blp.response(200, RedemptionTermsSchema)
    def put(self, data, connection_id):
        """Switch points redemption on or off and set its terms.

        ``point_value`` is what one point takes off a bill; ``max_percent``
        the most of a bill points may pay; ``min_points`` the fewest a sale
        may redeem.
        """
        stored = RedemptionTermsSchema().dump(data)
        with current_hub().db.transaction() as session:
            connection = keys.pos_connection(session, g.merchant_id, connection_id)
            connection.settings = {**(connection.settings or {}), SETTING: stored}
            record_audit(
                session,
                g.merchant_id,
                actor=g.actor,
                action="pos_redemption.updated",
                object_type="connection",
                object_id=connection_id,
                data=stored,
            )
        return stored
