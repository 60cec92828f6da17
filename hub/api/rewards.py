"""The rewards catalog, and members redeeming points for a reward's voucher."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub.api.pagination import decode_cursor
from hub.api.pagination import page
from hub.api.pagination import page_of
from hub.api.schemas import Int64
from hub.api.tiers import Amount
from hub.api.tiers import amount
from hub.api.vouchers import VoucherSchema
from hub.api.vouchers import voucher_view
from hub.core import current_hub
from hub.members.directory import get_member
from hub.rewards.catalog import KINDS
from hub.rewards.catalog import create_reward
from hub.rewards.catalog import delete_reward
from hub.rewards.catalog import get_reward
from hub.rewards.catalog import list_rewards
from hub.rewards.catalog import redeem
from hub.rewards.catalog import update_reward

MAX_COUNT = 10**12

blp = Blueprint("rewards", __name__, url_prefix="/rewards", description="Rewards catalog")
redemptions_blp = Blueprint(
    "redemptions", __name__, url_prefix="/members", description="Redeeming points"
)


class RewardInSchema(Schema):
    """A reward as the merchant defines it; which fields matter depends on ``kind``.

    ``value`` is the amount off or the store credit, or the percent for
    ``percent_off`` (capped by ``max_discount``); ``free_product`` needs
    ``product_sku``. ``stock`` and ``per_member_limit`` null mean no limit;
    ``validity_days`` null means the voucher never expires.
    """

    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    description = fields.Str(validate=validate.Length(max=2000))
    kind = fields.Str(required=True, validate=validate.OneOf(KINDS))
    value = amount(allow_none=True)
    max_discount = amount(allow_none=True)
    product_sku = fields.Str(allow_none=True, validate=validate.Length(min=1, max=100))
    points_cost = fields.Int(required=True, validate=validate.Range(min=1, max=MAX_COUNT))
    min_order = amount()
    validity_days = fields.Int(allow_none=True, validate=validate.Range(min=1, max=36_500))
    min_tier_id = Int64(allow_none=True)
    stock = fields.Int(allow_none=True, validate=validate.Range(min=0, max=MAX_COUNT))
    per_member_limit = fields.Int(allow_none=True, validate=validate.Range(min=1, max=1_000_000))
    active = fields.Bool()


class RewardSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    description = fields.Str()
    kind = fields.Str()
    value = Amount(allow_none=True)
    max_discount = Amount(allow_none=True)
    product_sku = fields.Str(allow_none=True)
    points_cost = fields.Int()
    min_order = Amount()
    validity_days = fields.Int(allow_none=True)
    min_tier_id = Int64(allow_none=True)
    stock = fields.Int(allow_none=True)
    per_member_limit = fields.Int(allow_none=True)
    active = fields.Bool()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class RewardListArgs(Schema):
    active = fields.Bool()
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.Str(load_default=None)


class RedemptionInSchema(Schema):
    reward_id = Int64(required=True)


class RedemptionSchema(Schema):
    voucher = fields.Nested(VoucherSchema)
    points_spent = fields.Int()
    entry_id = fields.Int()
    balance = fields.Int()


@blp.route("")
class Rewards(MethodView):
    @blp.arguments(RewardListArgs, location="query")
    @blp.response(200, page_of(RewardSchema))
    def get(self, args):
        """List the catalog by id, optionally only active (or inactive) rewards."""
        with current_hub().db.session() as session:
            rows = list_rewards(
                session,
                g.merchant_id,
                active=args.get("active"),
                after_id=decode_cursor(args["cursor"]),
                limit=args["limit"],
            )
            return page(rows, args["limit"])

    @blp.arguments(RewardInSchema)
    @blp.response(201, RewardSchema)
    def post(self, data):
        """Add a reward to the catalog."""
        with current_hub().db.transaction() as session:
            return create_reward(session, g.merchant_id, data, actor=g.actor)


@blp.route("/<int:reward_id>")
class RewardById(MethodView):
    @blp.response(200, RewardSchema)
    def get(self, reward_id):
        """Get one reward."""
        with current_hub().db.session() as session:
            return get_reward(session, g.merchant_id, reward_id)

    @blp.arguments(RewardInSchema(partial=True))
    @blp.response(200, RewardSchema)
    def patch(self, data, reward_id):
        """Change a reward; vouchers already issued keep their terms."""
        with current_hub().db.transaction() as session:
            reward = get_reward(session, g.merchant_id, reward_id)
            return update_reward(session, reward, data, actor=g.actor)

    @blp.response(204)
    def delete(self, reward_id):
        """Delete a reward nobody redeemed yet (otherwise set ``active`` to false)."""
        with current_hub().db.transaction() as session:
            delete_reward(session, get_reward(session, g.merchant_id, reward_id), actor=g.actor)


@redemptions_blp.route("/<int:member_id>/redemptions")
class Redemptions(MethodView):
    @redemptions_blp.arguments(RedemptionInSchema)
    @redemptions_blp.response(201, RedemptionSchema)
    def post(self, data, member_id):
        """Spend the member's points on a reward: one transaction debits them and issues a voucher.

        Too few points answer 409 ``insufficient_points``; out of stock 409
        ``out_of_stock``; the member's limit 409 ``redemption_limit_reached``;
        an inactive reward, a tier restriction or a plugin's refusal 422.
        """
        hub = current_hub()
        with hub.db.transaction() as session:
            member = get_member(session, g.merchant_id, member_id)
            reward = get_reward(session, g.merchant_id, data["reward_id"])
            result = redeem(hub, session, member, reward, actor=g.actor)
            return {
                "voucher": voucher_view(result.voucher),
                "points_spent": -result.entry.points,
                "entry_id": result.entry.id,
                "balance": result.balance,
            }
