"""Marshmallow schemas of the counter API's request bodies.

Amounts are decimal strings or numbers and become ``Decimal`` (never
float); times carry a timezone. Unknown fields are refused, so a typo in a
till's integration shows up as a 422 naming the field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import RAISE
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validate

from connectors.pos.sales import SaleIn
from hub import OrderLine
from hub import ValidationError

MAX_AMOUNT = Decimal(10) ** 15
RECEIPT = validate.Length(min=1, max=64)


def _amount(value: Decimal) -> None:
    if value < 0 or value > MAX_AMOUNT:
        raise SchemaError(f"must be between 0 and {MAX_AMOUNT}")


def amount(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(allow_nan=False, validate=_amount, **kwargs)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class LineSchema(_Strict):
    sku = fields.Str(allow_none=True, validate=validate.Length(max=100))
    product_id = fields.Str(allow_none=True, validate=validate.Length(max=100))
    title = fields.Str(load_default="", validate=validate.Length(max=300))
    quantity = fields.Int(required=True, validate=validate.Range(min=0, max=10**6))
    price = amount(required=True)
    total_discount = amount(load_default=Decimal(0))
    gift_card = fields.Bool(load_default=False)

    @post_load
    def build(self, data: dict, **_: Any) -> OrderLine:
        return OrderLine(**data)


class SaleSchema(_Strict):
    """A sale: receipt number, time of sale, what was paid, and whose it is."""

    receipt = fields.Str(required=True, validate=RECEIPT)
    sold_at = fields.AwareDateTime(required=True)
    total = amount(required=True)
    subtotal = amount(load_default=None, allow_none=True)
    discount = amount(load_default=Decimal(0))
    currency = fields.Str(load_default=None, validate=validate.Regexp(r"^[A-Za-z]{3}$"))
    lines = fields.List(fields.Nested(LineSchema), load_default=list)
    member_code = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=64))
    phone = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=40))
    redeem_points = fields.Int(load_default=0, validate=validate.Range(min=0, max=10**12))
    discount_codes = fields.List(fields.Str(validate=validate.Length(max=64)), load_default=list)

    @post_load
    def build(self, data: dict, **_: Any) -> SaleIn:
        data["receipt"] = data["receipt"].strip()
        data["lines"] = tuple(data["lines"])
        data["discount_codes"] = tuple(data["discount_codes"])
        return SaleIn(**data)


class VoidSchema(_Strict):
    reason = fields.Str(load_default="", validate=validate.Length(max=300))


class RefundSchema(_Strict):
    refund_id = fields.Str(required=True, validate=RECEIPT)
    amount = fields.Decimal(
        required=True, allow_nan=False, validate=validate.Range(min=0, min_inclusive=False)
    )
    refunded_at = fields.AwareDateTime(load_default=None)
    note = fields.Str(load_default="", validate=validate.Length(max=300))


class EnrolSchema(_Strict):
    phone = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    name = fields.Str(load_default="", validate=validate.Length(max=200))
    email = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=254))
    birthday = fields.Date(load_default=None, allow_none=True)
    gender = fields.Str(
        load_default=None, allow_none=True, validate=validate.OneOf(("female", "male", "other"))
    )
    consents = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(("sms", "zalo", "email"))),
        values=fields.Bool(),
        load_default=dict,
    )
    customer_id = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=100))


class VoucherCheckSchema(_Strict):
    code = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    amount = amount(load_default=None, allow_none=True)


class VoucherBurnSchema(_Strict):
    code = fields.Str(required=True, validate=validate.Length(min=1, max=64))
    receipt = fields.Str(required=True, validate=RECEIPT)
    amount = amount(load_default=None, allow_none=True)


class RedemptionSchema(_Strict):
    reward_id = fields.Int(required=True, validate=validate.Range(min=1))
    request_id = fields.Str(required=True, validate=validate.Length(min=1, max=64))


def load(schema: Schema, data: Any) -> Any:
    """Load a body with ``schema``, or raise the hub's ValidationError with field details."""
    if not isinstance(data, dict):
        raise ValidationError(
            "send a JSON object as the request body", details={"json": ["not an object"]}
        )
    try:
        return schema.load(data)
    except SchemaError as exc:
        raise ValidationError(
            "the request has invalid or unknown fields; see details", details=exc.messages
        ) from None
