"""Marshmallow schemas of the counter API's request bodies.

Amounts are decimal strings or numbers and become ``Decimal`` (never
float); times carry a timezone. Unknown fields are refused, so a typo in a
till's integration shows up as a 422 naming the field.
"""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
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
#: Sales before this are typing mistakes (and older dates overflow time zone arithmetic).
EARLIEST_SALE = datetime(2000, 1, 1, tzinfo=UTC)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _printable(value: str) -> None:
    if _CONTROL.search(value):
        raise SchemaError("contains control characters")


class Text(fields.Str):
    """A string without control characters (PostgreSQL refuses NUL in text)."""

    def __init__(self, **kwargs: Any) -> None:
        extra = kwargs.pop("validate", None)
        checks = [_printable] + ([extra] if extra else [])
        super().__init__(validate=checks, **kwargs)


RECEIPT = validate.Length(min=1, max=64)


def _sale_time(value: datetime) -> None:
    if value < EARLIEST_SALE:
        raise SchemaError("before 2000; check the till's clock")


def _amount(value: Decimal) -> None:
    if value < 0 or value > MAX_AMOUNT:
        raise SchemaError(f"must be between 0 and {MAX_AMOUNT}")


def amount(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(allow_nan=False, validate=_amount, **kwargs)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class LineSchema(_Strict):
    sku = Text(allow_none=True, validate=validate.Length(max=100))
    product_id = Text(allow_none=True, validate=validate.Length(max=100))
    title = Text(load_default="", validate=validate.Length(max=300))
    quantity = fields.Int(required=True, validate=validate.Range(min=0, max=10**6))
    price = amount(required=True)
    total_discount = amount(load_default=Decimal(0))
    gift_card = fields.Bool(load_default=False)

    @post_load
    def build(self, data: dict, **_: Any) -> OrderLine:
        return OrderLine(**data)


class SaleSchema(_Strict):
    """A sale: receipt number, time of sale, what was paid, and whose it is."""

    receipt = Text(required=True, validate=RECEIPT)
    sold_at = fields.AwareDateTime(required=True, validate=_sale_time)
    total = amount(required=True)
    subtotal = amount(load_default=None, allow_none=True)
    discount = amount(load_default=Decimal(0))
    currency = Text(load_default=None, validate=validate.Regexp(r"^[A-Za-z]{3}$"))
    lines = fields.List(fields.Nested(LineSchema), load_default=list)
    member_code = Text(load_default=None, allow_none=True, validate=validate.Length(max=64))
    phone = Text(load_default=None, allow_none=True, validate=validate.Length(max=40))
    redeem_points = fields.Int(load_default=0, validate=validate.Range(min=0, max=10**9))
    discount_codes = fields.List(Text(validate=validate.Length(max=64)), load_default=list)

    @post_load
    def build(self, data: dict, **_: Any) -> SaleIn:
        data["receipt"] = data["receipt"].strip()
        data["lines"] = tuple(data["lines"])
        data["discount_codes"] = tuple(data["discount_codes"])
        return SaleIn(**data)


class VoidSchema(_Strict):
    reason = Text(load_default="", validate=validate.Length(max=300))


class RefundSchema(_Strict):
    refund_id = Text(required=True, validate=RECEIPT)
    amount = fields.Decimal(
        required=True, allow_nan=False, validate=validate.Range(min=0, min_inclusive=False)
    )
    refunded_at = fields.AwareDateTime(load_default=None, validate=_sale_time)
    note = Text(load_default="", validate=validate.Length(max=300))


class EnrolSchema(_Strict):
    phone = Text(required=True, validate=validate.Length(min=1, max=40))
    name = Text(load_default="", validate=validate.Length(max=200))
    email = Text(load_default=None, allow_none=True, validate=validate.Length(max=254))
    birthday = fields.Date(load_default=None, allow_none=True)
    gender = Text(
        load_default=None, allow_none=True, validate=validate.OneOf(("female", "male", "other"))
    )
    consents = fields.Dict(
        keys=Text(validate=validate.OneOf(("sms", "zalo", "email"))),
        values=fields.Bool(),
        load_default=dict,
    )
    customer_id = Text(load_default=None, allow_none=True, validate=validate.Length(max=100))


class VoucherCheckSchema(_Strict):
    code = Text(required=True, validate=validate.Length(min=1, max=64))
    amount = amount(load_default=None, allow_none=True)


class VoucherBurnSchema(_Strict):
    code = Text(required=True, validate=validate.Length(min=1, max=64))
    receipt = Text(required=True, validate=RECEIPT)
    amount = amount(load_default=None, allow_none=True)


class RedemptionSchema(_Strict):
    reward_id = fields.Int(required=True, validate=validate.Range(min=1))
    request_id = Text(required=True, validate=validate.Length(min=1, max=64))


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
