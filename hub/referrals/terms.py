"""A merchant's referral terms: on or off, each side's reward, the refund window, the limit."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema
from sqlalchemy.orm import Session

from hub import audit
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.models import ReferralSettings


class SideSchema(Schema):
    """What one side earns: points, or a voucher of a reward (given, not bought)."""

    points = fields.Int(allow_none=True, load_default=None, validate=validate.Range(1, 1_000_000))
    reward_id = fields.Int(allow_none=True, load_default=None, validate=validate.Range(min=1))

    @validates_schema
    def _one(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("points") is None) == (data.get("reward_id") is None):
            raise SchemaError("give points or a reward_id, one of the two", "points")


class ReferralTermsSchema(Schema):
    enabled = fields.Bool(load_default=False)
    referrer = fields.Nested(SideSchema, load_default=lambda: {"points": 200, "reward_id": None})
    friend = fields.Nested(SideSchema, load_default=lambda: {"points": 100, "reward_id": None})
    #: Days after the friend's payment before anyone is rewarded: a refund in them cancels it.
    hold_days = fields.Int(load_default=14, validate=validate.Range(0, 365))
    #: Rewarded referrals per referrer per calendar month (the merchant's); more are rejected.
    monthly_limit = fields.Int(load_default=10, validate=validate.Range(1, 10_000))


DEFAULT_TERMS: dict[str, Any] = ReferralTermsSchema().load({})


def get_terms(session: Session, merchant_id: int) -> dict[str, Any]:
    """The merchant's terms, defaults filled in (off until the merchant turns them on)."""
    row = session.get(ReferralSettings, merchant_id)
    return {**DEFAULT_TERMS, **(row.settings if row else {})}


def save_terms(
    session: Session, merchant_id: int, changes: dict[str, Any], *, actor: str
) -> dict[str, Any]:
    """Apply ``changes`` (already loaded by the schema) over the stored terms; return them.

    :raise ValidationError: a reward named does not exist for this merchant.
    """
    # Imported here: the order path reads the terms (``hub.referrals.progress``),
    # and the reward catalogue imports the order path.
    from hub.rewards.catalog import get_reward

    terms = {**get_terms(session, merchant_id), **changes}
    for side in ("referrer", "friend"):
        reward_id = terms[side].get("reward_id")
        if reward_id is not None:
            try:
                get_reward(session, merchant_id, reward_id)
            except NotFound:
                raise ValidationError(
                    f"{side}.reward_id: no reward {reward_id} in this shop; "
                    "list them with GET /api/v1/rewards",
                    details={side: {"reward_id": ["unknown reward"]}},
                ) from None
    row = session.get(ReferralSettings, merchant_id)
    if row is None:
        row = ReferralSettings(merchant_id=merchant_id, settings=terms)
        session.add(row)
    else:
        row.settings = terms
    session.flush()
    audit.record(
        session,
        merchant_id,
        actor=actor,
        action="referrals.settings",
        object_type="merchant",
        object_id=merchant_id,
        data=terms,
    )
    return terms
