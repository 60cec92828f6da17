"""The merchant's side of KiotViet connections, under ``/api/v1/kiotviet``."""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields

from connectors.kiotviet.subscriptions import EVENTS
from hub import Connection
from hub import NotFound
from hub import connection_secrets
from hub import current_hub
from hub import record_audit

blp = Blueprint(
    "kiotviet_admin", __name__, url_prefix="/kiotviet", description="KiotViet connections"
)


class KiotVietStatusSchema(Schema):
    connection_id = fields.Int()
    retailer = fields.Str(allow_none=True)
    has_credentials = fields.Bool(metadata={"description": "client_id and client_secret set"})
    has_webhook_secret = fields.Bool()
    token_expires_at = fields.Str(allow_none=True)
    webhooks = fields.Dict(keys=fields.Str(), values=fields.Raw())
    signature_variant = fields.Str(
        allow_none=True,
        metadata={"description": "The signature variant pinned by the first verified delivery"},
    )


class KiotVietQueuedSchema(Schema):
    queued = fields.Bool()
    events = fields.List(fields.Str())


def _connection(session: Any, connection_id: int) -> Connection:
    connection = session.get(Connection, connection_id)
    if (
        connection is None
        or connection.merchant_id != g.merchant_id
        or connection.connector != "kiotviet"
        or connection.status == "deleted"
    ):
        raise NotFound(
            f"KiotViet connection {connection_id} not found", code="connection_not_found"
        )
    return connection


def _status(connection: Connection) -> dict[str, Any]:
    secrets = connection_secrets(current_hub(), connection)
    settings = connection.settings or {}
    return {
        "connection_id": connection.id,
        "retailer": settings.get("retailer"),
        "has_credentials": bool(secrets.get("client_id") and secrets.get("client_secret")),
        "has_webhook_secret": bool(secrets.get("webhook_secret")),
        "token_expires_at": secrets.get("access_token_expires_at"),
        "webhooks": settings.get("webhooks") or {},
        "signature_variant": settings.get("signature_variant"),
    }


@blp.route("/connections/<int:connection_id>")
class Status(MethodView):
    @blp.response(200, KiotVietStatusSchema)
    def get(self, connection_id):
        """Where the connection stands: credentials, webhooks registered, signature pinned."""
        with current_hub().db.session() as session:
            return _status(_connection(session, connection_id))


@blp.route("/connections/<int:connection_id>/webhooks")
class Webhooks(MethodView):
    @blp.response(202, KiotVietQueuedSchema)
    def post(self, connection_id):
        """Register the hub's webhook at KiotViet for each event (a job; safe to repeat).

        Needs ``HUB_PUBLIC_URL``, the ``retailer`` setting and the API
        credentials; a webhook secret is made when the connection has none.
        """
        hub = current_hub()
        with hub.db.session() as session:
            _connection(session, connection_id)
        hub.jobs.enqueue(
            "connectors.kiotviet.subscriptions.register_webhooks",
            connection_id,
            job_id=f"kiotviet-webhooks-{connection_id}",
            retry=hub.jobs.default_retry(),
            meta={"plugin": "kiotviet", "connection_id": connection_id},
        )
        return {"queued": True, "events": list(EVENTS)}


@blp.route("/connections/<int:connection_id>/signature-variant")
class SignatureVariant(MethodView):
    @blp.response(204)
    def delete(self, connection_id):
        """Forget the pinned signature variant (after changing the webhook secret).

        The next delivery that verifies in any known variant pins it again.
        """
        with current_hub().db.transaction() as session:
            connection = _connection(session, connection_id)
            settings = dict(connection.settings or {})
            settings.pop("signature_variant", None)
            connection.settings = settings
            record_audit(
                session,
                g.merchant_id,
                actor=g.actor,
                action="kiotviet.signature_unpinned",
                object_type="connection",
                object_id=connection_id,
            )
