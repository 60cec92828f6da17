"""Tiers: the merchant's ladder and policy, and where each member stands on it."""

from __future__ import annotations

from decimal import Decimal

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import ValidationError as MarshmallowError
from marshmallow import fields
from marshmallow import validate

from hub import tiers
from hub.api.schemas import Int64
from hub.core import current_hub
from hub.jobs import JobCall
from hub.jobs import JobRef
from hub.members.directory import get_member

MAX_AMOUNT = 10**15

blp = Blueprint("tiers", __name__, url_prefix="/tiers", description="Tiers")
member_blp = Blueprint(
    "member_tiers", __name__, url_prefix="/members", description="A member's tier"
)


class Amount(fields.Decimal):
    """A decimal string without trailing zeros (``"150000"``, ``"0.9"``), on every database."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("metadata", {"type": "string", "format": "decimal", "example": "150000"})
        super().__init__(as_string=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return format(Decimal(value).normalize(), "f")


def decimal_range(low, high, *, open_low: bool = False, open_high: bool = False):
    """A validator for a decimal in [low, high] (open ends excluded).

    Not ``validate.Range``: apispec would write its bounds into the spec as
    strings, which OpenAPI does not allow for a string-typed amount.
    """
    low, high = Decimal(low), Decimal(high)

    def check(value: Decimal) -> None:
        if (
            value < low
            or value > high
            or (open_low and value == low)
            or (open_high and value == high)
        ):
            left, right = "(" if open_low else "[", ")" if open_high else "]"
            raise MarshmallowError(f"must be in {left}{low}, {high}{right}")

    return check


def amount(**kwargs) -> Amount:
    """An amount in the API: 0 or more, at most 10^15, four decimals kept."""
    return Amount(places=4, validate=decimal_range(0, MAX_AMOUNT), **kwargs)


class TierInSchema(Schema):
    """A tier as a merchant defines it; unknown fields are refused."""

    name = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    threshold = amount(required=True)
    basis = fields.Str(validate=validate.OneOf(tiers.BASES))
    window = fields.Str(validate=validate.OneOf(tiers.WINDOWS))
    earn_multiplier = Amount(places=4, validate=decimal_range(1, 100))
    benefits = fields.Str(validate=validate.Length(max=2000))
    position = fields.Int(validate=validate.Range(min=0, max=10_000))


class TierSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    position = fields.Int()
    threshold = Amount()
    basis = fields.Str()
    window = fields.Str()
    earn_multiplier = Amount()
    benefits = fields.Str()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    review_job_id = fields.Str(
        allow_none=True,
        metadata={
            "description": "After a create or change: the job re-evaluating the members "
            "(GET /jobs/{id}); absent when it already ran."
        },
    )


class TierListSchema(Schema):
    data = fields.List(fields.Nested(TierSchema))


class TierSettingsSchema(Schema):
    """The tier policy; a ``PUT`` names both fields, a ``PATCH`` the ones it changes."""

    downgrade_policy = fields.Str(required=True, validate=validate.OneOf(tiers.DOWNGRADE_POLICIES))
    near_share = Amount(
        required=True,
        places=4,
        validate=decimal_range(0, 1, open_low=True, open_high=True),
    )


class TierStatusSchema(Schema):
    """Where a member stands: amounts are points or money, as the tier's basis says."""

    tier = fields.Nested(TierSchema, allow_none=True)
    since = fields.AwareDateTime(allow_none=True)
    reason = fields.Str(allow_none=True)
    is_override = fields.Bool()
    override_until = fields.AwareDateTime(allow_none=True)
    next_tier = fields.Nested(TierSchema, allow_none=True)
    progress = Amount(allow_none=True)
    delta_to_next = Amount(allow_none=True)
    retain_by = fields.AwareDateTime(allow_none=True)
    retain_progress = Amount(allow_none=True)
    delta_to_retain = Amount(allow_none=True)


class TierPeriodSchema(Schema):
    id = fields.Int()
    tier_id = fields.Int(allow_none=True)
    tier_name = fields.Str(allow_none=True)
    previous_tier_id = fields.Int(allow_none=True)
    reason = fields.Str()
    note = fields.Str()
    actor = fields.Str()
    is_override = fields.Bool()
    started_at = fields.AwareDateTime()
    ended_at = fields.AwareDateTime(allow_none=True)
    review_at = fields.AwareDateTime(allow_none=True)
    override_until = fields.AwareDateTime(allow_none=True)


class TierHistorySchema(Schema):
    data = fields.List(fields.Nested(TierPeriodSchema))


class OverrideInSchema(Schema):
    tier_id = Int64(required=True)
    until = fields.AwareDateTime(load_default=None, allow_none=True)
    note = fields.Str(load_default="", validate=validate.Length(max=500))


class QueuedSchema(Schema):
    queued = fields.Bool()
    job_id = fields.Str(allow_none=True)


def _reevaluate_call(merchant_id: int) -> JobCall:
    return JobCall(
        "hub.tiers.reevaluate_merchant",
        (merchant_id,),
        meta={"merchant_id": merchant_id, "kind": "tiers.reevaluate"},
    )


def reevaluate_after(session, merchant_id: int) -> JobRef:
    """Re-evaluate the merchant's members once ``session`` commits, in a background job."""
    return current_hub().jobs.enqueue_on_commit(session, _reevaluate_call(merchant_id))


def _with_job(tier, ref: JobRef):
    if ref.id is not None:
        tier.review_job_id = ref.id
    return tier


@blp.route("")
class Tiers(MethodView):
    @blp.response(200, TierListSchema)
    def get(self):
        """List the merchant's tiers, lowest first."""
        with current_hub().db.session() as session:
            return {"data": tiers.list_tiers(session, g.merchant_id)}

    @blp.arguments(TierInSchema)
    @blp.response(201, TierSchema)
    def post(self, data):
        """Add a tier. Members who already qualify are upgraded by a background job.

        The answer comes at once; ``review_job_id`` names the job (``GET /jobs/{id}``).
        """
        with current_hub().db.transaction() as session:
            tier = tiers.create_tier(session, g.merchant_id, data, actor=g.actor)
            ref = reevaluate_after(session, g.merchant_id)
        return _with_job(tier, ref)


@blp.route("/<int:tier_id>")
class TierById(MethodView):
    @blp.response(200, TierSchema)
    def get(self, tier_id):
        """Get one tier."""
        with current_hub().db.session() as session:
            return tiers.get_tier(session, g.merchant_id, tier_id)

    @blp.arguments(TierInSchema(partial=True))
    @blp.response(200, TierSchema)
    def patch(self, data, tier_id):
        """Change a tier. Whoever now qualifies is upgraded; nobody moves down before a review."""
        with current_hub().db.transaction() as session:
            tier = tiers.update_tier(
                session, tiers.get_tier(session, g.merchant_id, tier_id), data, actor=g.actor
            )
            ref = reevaluate_after(session, g.merchant_id)
        return _with_job(tier, ref)

    @blp.response(204)
    def delete(self, tier_id):
        """Delete a tier; its members move to the best remaining tier they qualify for."""
        hub = current_hub()
        with hub.db.transaction() as session:
            tier = tiers.get_tier(session, g.merchant_id, tier_id)
            tiers.delete_tier(hub, session, tier, actor=g.actor)


@blp.route("/settings")
class Settings(MethodView):
    @blp.response(200, TierSettingsSchema)
    def get(self):
        """Get the tier policy: downgrade policy and the near-tier share."""
        with current_hub().db.session() as session:
            return tiers.get_settings(session, g.merchant_id)

    @blp.arguments(TierSettingsSchema)
    @blp.response(200, TierSettingsSchema)
    def put(self, data):
        """Replace the tier policy (both fields). A new downgrade policy reschedules reviews."""
        with current_hub().db.transaction() as session:
            return tiers.update_settings(session, g.merchant_id, data, actor=g.actor)

    @blp.arguments(TierSettingsSchema(partial=True))
    @blp.response(200, TierSettingsSchema)
    def patch(self, data):
        """Change only the policy fields named. A new downgrade policy reschedules reviews."""
        with current_hub().db.transaction() as session:
            return tiers.update_settings(session, g.merchant_id, data, actor=g.actor)


@blp.route("/reevaluate")
class Reevaluate(MethodView):
    @blp.response(202, QueuedSchema)
    def post(self):
        """Re-evaluate every member now: whoever qualifies for a higher tier moves up."""
        jobs = current_hub().jobs
        call = _reevaluate_call(g.merchant_id)
        job = jobs.enqueue(call.func, *call.args, meta=call.meta)
        ran_inline = jobs.is_inline and not jobs.uses_table
        return {"queued": True, "job_id": None if ran_inline else getattr(job, "id", None)}


@member_blp.route("/<int:member_id>/tier")
class MemberTier(MethodView):
    @member_blp.response(200, TierStatusSchema)
    def get(self, member_id):
        """Get the member's tier, the next one, and what is left to reach or keep them."""
        with current_hub().db.session() as session:
            member = get_member(session, g.merchant_id, member_id)
            return tiers.tier_status(session, member)


@member_blp.route("/<int:member_id>/tier/history")
class MemberTierHistory(MethodView):
    @member_blp.response(200, TierHistorySchema)
    def get(self, member_id):
        """List the member's tier periods, newest first, each with the reason it began."""
        with current_hub().db.session() as session:
            get_member(session, g.merchant_id, member_id)
            return {"data": tiers.tier_history(session, member_id)}


@member_blp.route("/<int:member_id>/tier/override")
class MemberTierOverride(MethodView):
    @member_blp.arguments(OverrideInSchema)
    @member_blp.response(200, TierStatusSchema)
    def put(self, data, member_id):
        """Put the member in a tier until a date (or until lifted), whatever they earn."""
        with current_hub().db.transaction() as session:
            member = get_member(session, g.merchant_id, member_id)
            tier = tiers.get_tier(session, g.merchant_id, data["tier_id"])
            tiers.override_tier(
                session, member, tier, until=data["until"], note=data["note"], actor=g.actor
            )
            return tiers.tier_status(session, member)

    @member_blp.response(200, TierStatusSchema)
    def delete(self, member_id):
        """Lift the member's override: they take the tier they qualify for now."""
        hub = current_hub()
        with hub.db.transaction() as session:
            member = get_member(session, g.merchant_id, member_id)
            tiers.end_override(hub, session, member, actor=g.actor, note="lifted")
            return tiers.tier_status(session, member)
