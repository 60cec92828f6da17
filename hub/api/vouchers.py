"""Vouchers: look one up, check and burn it at a store or till, cancel it, list a member's."""

from __future__ import annotations

from typing import Any

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
from hub.core import current_hub
from hub.members.directory import get_member
from hub.models.rewards import Voucher
from hub.rewards.vouchers import STATUSES
from hub.rewards.vouchers import cancel_voucher
from hub.rewards.vouchers import effective_status
from hub.rewards.vouchers import get_voucher
from hub.rewards.vouchers import member_vouchers
from hub.rewards.vouchers import use_voucher
from hub.rewards.vouchers import validate_voucher

blp = Blueprint("vouchers", __name__, url_prefix="/vouchers", description="Vouchers")
member_blp = Blueprint(
    "member_vouchers", __name__, url_prefix="/members", description="A member's vouchers"
)


_CODE = fields.Str(required=True, validate=validate.Length(min=1, max=64))


class VoucherSchema(Schema):
    """A voucher with the terms it was issued with; ``status`` counts a passed date as expired."""

    id = fields.Int()
    code = fields.Str()
    status = fields.Str()
    member_id = fields.Int()
    reward_id = fields.Int(allow_none=True)
    reward_name = fields.Str()
    kind = fields.Str()
    value = Amount(allow_none=True)
    max_discount = Amount(allow_none=True)
    product_sku = fields.Str(allow_none=True)
    min_order = Amount()
    currency = fields.Str()
    points = fields.Int()
    points_returned = fields.Int()
    issued_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(allow_none=True)
    used_at = fields.AwareDateTime(allow_none=True)
    used_reference = fields.Str(allow_none=True)
    used_order_id = fields.Int(allow_none=True)
    used_order_total = Amount(allow_none=True)
    used_discount = Amount(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    expired_at = fields.AwareDateTime(allow_none=True)


def voucher_view(voucher: Voucher) -> dict[str, Any]:
    """The voucher as the API shows it, with its effective status."""
    data = {c.name: getattr(voucher, c.name) for c in Voucher.__table__.columns}
    data["status"] = effective_status(voucher)
    return data


class ValidateInSchema(Schema):
    code = _CODE
    order_total = amount(load_default=None, allow_none=True)


class ValidationSchema(Schema):
    valid = fields.Bool()
    reason = fields.Str(allow_none=True)
    message = fields.Str()
    discount = Amount(allow_none=True)
    voucher = fields.Nested(VoucherSchema, allow_none=True)


class UseInSchema(Schema):
    """Burn a code on an order: a hub order id, or the store's or till's own reference."""

    code = _CODE
    order_id = Int64(load_default=None, allow_none=True)
    reference = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=100))
    order_total = amount(load_default=None, allow_none=True)


class CancelInSchema(Schema):
    note = fields.Str(load_default="", validate=validate.Length(max=500))


class VoucherListArgs(Schema):
    status = fields.Str(validate=validate.OneOf(STATUSES))
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.Str(load_default=None)


@blp.route("/validate")
class Validate(MethodView):
    @blp.arguments(ValidateInSchema)
    @blp.response(200, ValidationSchema)
    def post(self, data):
        """Check a code before the sale: valid or not (``reason``), and the discount.

        Always answers 200; ``reason`` is one of not_found, used, cancelled,
        expired, below_minimum.
        """
        with current_hub().db.session() as session:
            check = validate_voucher(session, g.merchant_id, data["code"], data["order_total"])
            return {
                "valid": check.valid,
                "reason": check.reason,
                "message": check.message,
                "discount": check.discount,
                "voucher": voucher_view(check.voucher) if check.voucher else None,
            }


@blp.route("/use")
class Use(MethodView):
    @blp.arguments(UseInSchema)
    @blp.response(200, VoucherSchema)
    def post(self, data):
        """Burn a code on one order. The same use again answers the same; another use 409.

        A code used on another order answers 409 ``voucher_already_used``; an
        expired or cancelled one 409 ``voucher_expired``/``voucher_cancelled``;
        an order below the minimum 422 ``order_below_minimum``.
        """
        with current_hub().db.transaction() as session:
            use = use_voucher(
                session,
                g.merchant_id,
                data["code"],
                order_id=data["order_id"],
                reference=data["reference"],
                order_total=data["order_total"],
                actor=g.actor,
            )
            return voucher_view(use.voucher)


@blp.route("/<string:code>")
class VoucherByCode(MethodView):
    @blp.response(200, VoucherSchema)
    def get(self, code):
        """Get a voucher by its code (case, spaces and dashes do not matter)."""
        with current_hub().db.session() as session:
            return voucher_view(get_voucher(session, g.merchant_id, code))


@blp.route("/<string:code>/cancel")
class Cancel(MethodView):
    @blp.arguments(CancelInSchema)
    @blp.response(200, VoucherSchema)
    def post(self, data, code):
        """Cancel an unused voucher: its points go back to the member, its stock to the reward."""
        with current_hub().db.transaction() as session:
            voucher = get_voucher(session, g.merchant_id, code)
            return voucher_view(cancel_voucher(session, voucher, actor=g.actor, note=data["note"]))


@member_blp.route("/<int:member_id>/vouchers")
class MemberVouchers(MethodView):
    @member_blp.arguments(VoucherListArgs, location="query")
    @member_blp.response(200, page_of(VoucherSchema))
    def get(self, args, member_id):
        """List the member's vouchers, oldest first, optionally of one status."""
        with current_hub().db.session() as session:
            get_member(session, g.merchant_id, member_id)
            rows = member_vouchers(
                session,
                member_id,
                status=args.get("status"),
                after_id=decode_cursor(args["cursor"]),
                limit=args["limit"],
            )
            result = page(rows, args["limit"])
            result["data"] = [voucher_view(v) for v in rows]
            return result
