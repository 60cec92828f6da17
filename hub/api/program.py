"""The merchant's loyalty program: read and save its settings, list versions, preview earning."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub.api.orders import canonical_order
from hub.api.pagination import decode_cursor
from hub.api.pagination import encode_cursor
from hub.api.schemas import Int64
from hub.api.schemas import OrderInSchema
from hub.api.tiers import Amount
from hub.core import current_hub
from hub.db import utcnow
from hub.members.directory import get_member
from hub.models import Merchant
from hub.orders.recording import FINANCIAL_STATUSES
from hub.points.accrual import is_cancelled
from hub.points.earning import quote
from hub.points.history_preview import preview_on_history
from hub.points.program import AMOUNT
from hub.points.program import DEFAULT_SETTINGS
from hub.points.program import ProgramSettingsSchema
from hub.points.program import latest_version
from hub.points.program import list_versions
from hub.points.program import program_for
from hub.points.program import program_rules
from hub.points.program import save_program

blp = Blueprint("program", __name__, url_prefix="/program", description="Loyalty program")


class ProgramRuleInfoSchema(Schema):
    name = fields.Str()
    title = fields.Str()
    description = fields.Str()


class ProgramSchema(Schema):
    version = fields.Int(metadata={"description": "0 until the merchant first saves settings"})
    created_at = fields.AwareDateTime(allow_none=True)
    actor = fields.Str(allow_none=True)
    settings = fields.Nested(ProgramSettingsSchema)
    rules_available = fields.List(
        fields.Nested(ProgramRuleInfoSchema),
        metadata={"description": "earning rules the installed plugins offer, for `rules`"},
    )


class ProgramVersionSchema(Schema):
    version = fields.Int()
    created_at = fields.AwareDateTime()
    actor = fields.Str()
    settings = fields.Nested(ProgramSettingsSchema)


class ProgramVersionPageSchema(Schema):
    data = fields.List(fields.Nested(ProgramVersionSchema))
    next_cursor = fields.Str(allow_none=True)


class ProgramVersionListArgs(Schema):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.Str(load_default=None)


class ProgramPreviewInSchema(OrderInSchema):
    """An order as ``POST /orders`` takes it, and optionally the member it would be for."""

    external_id = fields.Str(load_default="preview", validate=validate.Length(min=1, max=100))
    financial_status = fields.Str(load_default="paid", validate=validate.OneOf(FINANCIAL_STATUSES))
    member_id = Int64(allow_none=True, load_default=None)


class PreviewAwardSchema(Schema):
    rule = fields.Str()
    points = fields.Int()
    note = fields.Str()


class ProgramPreviewSchema(Schema):
    points = fields.Int()
    program_version = fields.Int()
    earning_base = fields.Decimal(as_string=True, metadata=AMOUNT)
    currency = fields.Str()
    reason = fields.Str(
        allow_none=True,
        metadata={
            "description": "why the order earns nothing: program_disabled, before_start, "
            "currency, below_minimum, cancelled"
        },
    )
    awards = fields.List(fields.Nested(PreviewAwardSchema))
    available_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime(allow_none=True)


def _view(version, hub) -> dict:
    settings_schema = ProgramSettingsSchema()
    if version is None:
        settings, number, created_at, actor = DEFAULT_SETTINGS, 0, None, None
    else:
        settings = version.settings
        number, created_at, actor = version.version, version.created_at, version.actor
    return {
        "version": number,
        "created_at": created_at,
        "actor": actor,
        "settings": settings_schema.load_defaults(settings_schema.load(settings)),
        "rules_available": [
            {"name": r.name, "title": r.title, "description": r.description}
            for r in sorted(program_rules(hub).values(), key=lambda r: r.name)
        ],
    }


@blp.route("")
class ProgramView(MethodView):
    @blp.response(200, ProgramSchema)
    def get(self):
        """Get the program's current settings (the defaults, version 0, until first saved)."""
        hub = current_hub()
        with hub.db.session() as session:
            return _view(latest_version(session, g.merchant_id), hub)

    @blp.arguments(ProgramSettingsSchema)
    @blp.response(200, ProgramSchema)
    def put(self, data):
        """Replace the program's settings with a new version; fields left out take their defaults.

        The body must name at least one field (``{}`` answers 422); to change
        some fields and keep the rest, use ``PATCH``. Orders placed from now on
        earn under the new version; orders placed before keep the version they
        were placed under. Saving unchanged settings creates no version.
        """
        hub = current_hub()
        schema = ProgramSettingsSchema()
        raw = schema.dump(schema.load_defaults(data))
        with hub.db.transaction() as session:
            version, _ = save_program(hub, session, g.merchant_id, raw, actor=g.actor)
            return _view(version, hub)

    @blp.arguments(ProgramSettingsSchema(partial=True))
    @blp.response(200, ProgramSchema)
    def patch(self, data):
        """Change only the settings named, keeping every other one, as a new version.

        Sections merge field by field: ``{"earn_rate": {"amount": "2000"}}``
        keeps the points per amount, ``{"rules": {"birthday": {...}}}`` keeps
        the other rules.
        """
        hub = current_hub()
        named = ProgramSettingsSchema(partial=True).dump(data)
        with hub.db.transaction() as session:
            # The merchant's row lock orders concurrent changes: each merges into the last.
            session.get(Merchant, g.merchant_id, with_for_update=True)
            current = _view(latest_version(session, g.merchant_id), hub)["settings"]
            raw = merged(ProgramSettingsSchema().dump(current), named)
            version, _ = save_program(hub, session, g.merchant_id, raw, actor=g.actor)
            return _view(version, hub)


def merged(base: dict, changes: dict) -> dict:
    """``base`` with ``changes`` applied: objects merge key by key, anything else replaces."""
    result = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


@blp.route("/versions")
class ProgramVersions(MethodView):
    @blp.arguments(ProgramVersionListArgs, location="query")
    @blp.response(200, ProgramVersionPageSchema)
    def get(self, args):
        """List saved versions, newest first; each one is what orders placed after it earned by."""
        before = decode_cursor(args["cursor"])
        with current_hub().db.session() as session:
            rows = list_versions(session, g.merchant_id, before=before, limit=args["limit"])
        schema = ProgramSettingsSchema()
        data = [
            {
                "version": row.version,
                "created_at": row.created_at,
                "actor": row.actor,
                "settings": schema.load_defaults(schema.load(row.settings)),
            }
            for row in rows
        ]
        full = len(rows) == args["limit"]
        return {"data": data, "next_cursor": encode_cursor(rows[-1].version) if full else None}


@blp.route("/preview")
class ProgramPreview(MethodView):
    @blp.arguments(ProgramPreviewInSchema)
    @blp.response(200, ProgramPreviewSchema)
    def post(self, data):
        """Say how many points an order would earn, rule by rule, without writing anything.

        Takes the body of ``POST /orders``; ``member_id`` lets member-specific
        rules (birthday, first order) answer. The program version is the one
        in force at ``placed_at``.
        """
        hub = current_hub()
        member_id = data.pop("member_id", None)
        for name in ("connection_id", "source"):
            data.pop(name, None)
        with hub.db.session() as session:
            merchant = session.get(Merchant, g.merchant_id)
            order = canonical_order(data, merchant.currency)
            member = get_member(session, g.merchant_id, member_id) if member_id else None
            program = program_for(hub, session, g.merchant_id, order.placed_at)
            offer = quote(hub, session, g.merchant_id, member, order, program)
            session.rollback()  # a preview writes nothing, whatever a rule did
        reason = "cancelled" if is_cancelled(order) else offer.reason
        awards = [] if reason else offer.awards
        now = utcnow()
        return {
            "points": sum(a.points for a in awards),
            "program_version": program.version,
            "earning_base": offer.base,
            "currency": program.currency,
            "reason": reason,
            "awards": [{"rule": a.rule, "points": a.points, "note": a.note} for a in awards],
            "available_at": program.available_at(now) if awards else None,
            "expires_at": program.expires_at(now) if awards else None,
        }


class HistoryPreviewRowSchema(Schema):
    order_id = Int64()
    number = fields.Str()
    placed_at = fields.AwareDateTime()
    total = Amount()
    member_id = Int64(allow_none=True)
    current = fields.Int(metadata={"description": "points under the version it was placed under"})
    proposed = fields.Int(metadata={"description": "points under the proposed settings"})
    reason = fields.Str(
        allow_none=True,
        metadata={"description": "why it would earn nothing under the proposal, as in /preview"},
    )


class HistoryPreviewSchema(Schema):
    data = fields.List(fields.Nested(HistoryPreviewRowSchema))


@blp.route("/preview/history")
class ProgramHistoryPreview(MethodView):
    @blp.arguments(ProgramSettingsSchema(partial=True))
    @blp.response(200, HistoryPreviewSchema)
    def post(self, data):
        """Replay the latest real orders under proposed settings, without saving anything.

        The body is settings as ``PATCH`` takes them (merged into the current
        ones). Each of the merchant's latest orders (newest first, up to 20)
        comes back with the points it earns under its own version and under
        the proposal: the console's program page shows the same table.
        """
        hub = current_hub()
        named = ProgramSettingsSchema(partial=True).dump(data)
        with hub.db.session() as session:
            current = _view(latest_version(session, g.merchant_id), hub)["settings"]
            settings = merged(ProgramSettingsSchema().dump(current), named)
            rows = preview_on_history(hub, session, g.merchant_id, settings)
        return {"data": [vars(row) for row in rows]}
