"""The audit log: who changed what, when, filtered by actor, action and time."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub.api.pagination import PageArgs
from hub.api.pagination import decode_cursor
from hub.api.pagination import page
from hub.api.pagination import page_of
from hub.audit import AuditFilter
from hub.audit import audit_records
from hub.core import current_hub

blp = Blueprint("audit", __name__, url_prefix="/audit", description="Audit log")


class AuditArgs(PageArgs):
    actor = fields.Str(
        validate=validate.Length(max=100),
        metadata={"description": "who: `staff:<id>`, `api_key:<id>`, `cli`, ..."},
    )
    action = fields.Str(
        validate=validate.Length(max=64),
        metadata={
            "description": "what: an action (`connection.updated`), or a family without a dot "
            "(`connection` reads every `connection.*`)"
        },
    )
    since = fields.AwareDateTime(metadata={"description": "from this instant on"})
    until = fields.AwareDateTime(metadata={"description": "before this instant"})


class AuditRecordSchema(Schema):
    id = fields.Int()
    actor = fields.Str()
    action = fields.Str()
    object_type = fields.Str()
    object_id = fields.Str()
    data = fields.Dict()
    created_at = fields.AwareDateTime()


@blp.route("")
class AuditLog(MethodView):
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, page_of(AuditRecordSchema))
    def get(self, args):
        """List the merchant's audit records, newest first, by actor, action and time."""
        wanted = AuditFilter(
            actor=args.get("actor"),
            action=args.get("action"),
            since=args.get("since"),
            until=args.get("until"),
        )
        with current_hub().db.session() as session:
            rows = audit_records(
                session,
                g.merchant_id,
                wanted,
                before_id=decode_cursor(args["cursor"]),
                limit=args["limit"],
            )
        return page(rows, args["limit"])
