"""A member's points: balance and lots, the ledger explained, manual adjustments."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate
from sqlalchemy import or_
from sqlalchemy import select

from hub.api.pagination import decode_cursor
from hub.api.pagination import page
from hub.api.pagination import page_of
from hub.core import current_hub
from hub.db import utcnow
from hub.members.directory import get_member
from hub.models import PointEntry
from hub.models import PointLot
from hub.points import ledger
from hub.points.earning import adjust_points
from hub.points.program import program_rules

blp = Blueprint("points", __name__, url_prefix="/members", description="Points")

#: What the core's own rule names mean; plugins' rules bring their titles.
CORE_RULES = {
    "base": "Base spend rule: the program's earn rate on the order",
    "refund": "Refund: points of the refunded share taken back",
    "cancel": "Order cancelled: its points taken back",
    "expiry": "Points expired",
    "adjustment": "Manual adjustment",
    "opening_balance": "Opening balance (import)",
}


class PointLotSchema(Schema):
    id = fields.Int()
    points = fields.Int(metadata={"description": "points the lot was credited with"})
    remaining = fields.Int()
    status = fields.Str(metadata={"description": "available or pending"})
    available_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    rule = fields.Str(allow_none=True)
    order_id = fields.Int(allow_none=True)


class NextExpirySchema(Schema):
    at = fields.AwareDateTime()
    points = fields.Int()


class PointsSchema(Schema):
    available = fields.Int(metadata={"description": "spendable now"})
    pending = fields.Int(metadata={"description": "earned, spendable after the hold"})
    total = fields.Int(metadata={"description": "the balance: sum of the ledger; below 0 is owed"})
    next_expiry = fields.Nested(NextExpirySchema, allow_none=True)
    lots = fields.List(fields.Nested(PointLotSchema))


class LedgerEntrySchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    points = fields.Int()
    rule = fields.Str(allow_none=True)
    explanation = fields.Str(metadata={"description": "what the rule is, then the entry's note"})
    note = fields.Str()
    order_id = fields.Int(allow_none=True)
    reference = fields.Str(allow_none=True)
    program_version = fields.Int(allow_none=True)
    actor = fields.Str()
    created_at = fields.AwareDateTime()


class LedgerPageArgs(Schema):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.Str(load_default=None)


class PointsAdjustmentInSchema(Schema):
    points = fields.Int(
        required=True,
        validate=validate.Range(min=-(10**9), max=10**9),
        metadata={"description": "points to add (> 0) or remove (< 0)"},
    )
    reason = fields.Str(required=True, validate=validate.Length(min=1, max=500))


def rule_titles(hub) -> dict[str, str]:
    titles = dict(CORE_RULES)
    titles.update({name: rule.title for name, rule in program_rules(hub).items()})
    return titles


def entry_view(entry: PointEntry, titles: dict[str, str]) -> dict:
    title = titles.get(entry.rule or "", entry.rule or entry.kind)
    return {
        **{c.name: getattr(entry, c.name) for c in PointEntry.__table__.columns},
        "explanation": f"{title}: {entry.note}" if entry.note else title,
    }


def points_view(session, member_id: int) -> dict:
    now = utcnow()
    summary = ledger.balance(session, member_id, at=now)
    rows = session.execute(
        select(PointLot, PointEntry.rule, PointEntry.order_id)
        .join(PointEntry, PointEntry.id == PointLot.entry_id)
        .where(
            PointLot.member_id == member_id,
            PointLot.remaining > 0,
            or_(PointLot.expires_at.is_(None), PointLot.expires_at > now),
        )
        .order_by(PointLot.expires_at.is_(None), PointLot.expires_at, PointLot.id)
    ).all()
    lots = [
        {
            "id": lot.id,
            "points": lot.points,
            "remaining": lot.remaining,
            "status": "available" if lot.available_at <= now else "pending",
            "available_at": lot.available_at,
            "expires_at": lot.expires_at,
            "rule": rule,
            "order_id": order_id,
        }
        for lot, rule, order_id in rows
    ]
    expiring = [lot for lot in lots if lot["expires_at"] is not None]
    next_expiry = None
    if expiring:
        first = expiring[0]["expires_at"]
        next_expiry = {
            "at": first,
            "points": sum(lot["remaining"] for lot in expiring if lot["expires_at"] == first),
        }
    return {
        "available": summary.available,
        "pending": summary.pending,
        "total": summary.total,
        "next_expiry": next_expiry,
        "lots": lots,
    }


@blp.route("/<int:member_id>/points")
class MemberPoints(MethodView):
    @blp.response(200, PointsSchema)
    def get(self, member_id):
        """Get the member's points: available, pending, total, and each lot with its expiry."""
        with current_hub().db.session() as session:
            get_member(session, g.merchant_id, member_id)
            return points_view(session, member_id)


@blp.route("/<int:member_id>/ledger")
class MemberLedger(MethodView):
    @blp.arguments(LedgerPageArgs, location="query")
    @blp.response(200, page_of(LedgerEntrySchema))
    def get(self, args, member_id):
        """List the member's ledger entries, newest first, each with the rule that wrote it."""
        hub = current_hub()
        before = decode_cursor(args["cursor"])
        with hub.db.session() as session:
            get_member(session, g.merchant_id, member_id)
            query = select(PointEntry).where(PointEntry.member_id == member_id)
            if before:
                query = query.where(PointEntry.id < before)
            rows = list(session.scalars(query.order_by(PointEntry.id.desc()).limit(args["limit"])))
            result = page(rows, args["limit"])
            titles = rule_titles(hub)
            result["data"] = [entry_view(row, titles) for row in rows]
            return result


@blp.route("/<int:member_id>/adjustments")
class MemberAdjustments(MethodView):
    @blp.arguments(PointsAdjustmentInSchema)
    @blp.response(201, LedgerEntrySchema)
    def post(self, data, member_id):
        """Add or remove points by hand; the reason and the API key are recorded.

        Removing more points than are available answers 409 ``insufficient_points``.
        """
        hub = current_hub()
        with hub.db.transaction() as session:
            member = get_member(session, g.merchant_id, member_id)
            entry = adjust_points(
                hub, session, member, data["points"], reason=data["reason"], actor=g.actor
            )
            return entry_view(entry, rule_titles(hub))
