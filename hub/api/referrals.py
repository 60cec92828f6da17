"""Referrals: the shop's terms, and the friends members brought with where each stands."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub.api.pagination import decode_cursor
from hub.api.pagination import page
from hub.api.schemas import Int64
from hub.core import current_hub
from hub.referrals.listing import STATUSES
from hub.referrals.listing import list_referrals
from hub.referrals.terms import ReferralTermsSchema
from hub.referrals.terms import SideSchema
from hub.referrals.terms import get_terms
from hub.referrals.terms import save_terms

blp = Blueprint("referrals", __name__, url_prefix="/referrals", description="Referrals")


class TermsSchema(ReferralTermsSchema):
    """The referral terms: each side's reward (points or a reward's voucher), window, limit."""

    referrer = fields.Nested(SideSchema)
    friend = fields.Nested(SideSchema)


class ReferralSchema(Schema):
    id = fields.Int()
    referrer_id = fields.Int()
    friend_id = fields.Int()
    code = fields.Str()
    status = fields.Str(metadata={"enum": list(STATUSES)})
    reason = fields.Str(
        allow_none=True,
        metadata={"description": "Why it was rejected: self, not_new, refunded, monthly_limit"},
    )
    order_id = fields.Int(allow_none=True)
    due_at = fields.AwareDateTime(allow_none=True)
    rewarded_at = fields.AwareDateTime(allow_none=True)
    rewards = fields.Dict()
    created_at = fields.AwareDateTime()


class ReferralPageSchema(Schema):
    data = fields.List(fields.Nested(ReferralSchema))
    next_cursor = fields.Str(allow_none=True)


class ReferralListArgs(Schema):
    status = fields.Str(validate=validate.OneOf(STATUSES))
    referrer_id = Int64()
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.Str(load_default=None)


@blp.route("")
class Referrals(MethodView):
    @blp.arguments(ReferralListArgs, location="query")
    @blp.response(200, ReferralPageSchema)
    def get(self, args):
        """List the friends members referred, oldest first, with each referral's state."""
        after_id = decode_cursor(args.pop("cursor"))
        limit = args.pop("limit")
        with current_hub().db.session() as session:
            rows = list_referrals(session, g.merchant_id, after_id=after_id, limit=limit, **args)
            return page(rows, limit)


@blp.route("/settings")
class Settings(MethodView):
    @blp.response(200, TermsSchema)
    def get(self):
        """Get the referral terms (off until turned on)."""
        with current_hub().db.session() as session:
            return get_terms(session, g.merchant_id)

    @blp.arguments(TermsSchema(partial=True))
    @blp.response(200, TermsSchema)
    def patch(self, data):
        """Change the terms named; a side's reward is points or a reward_id, one of the two."""
        with current_hub().db.transaction() as session:
            return save_terms(session, g.merchant_id, data, actor=g.actor)
