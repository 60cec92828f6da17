"""Marshmallow schemas of the custom storefront's events, loading canonical records.

Amounts are strings or numbers and become ``Decimal`` (never float); times
carry a timezone. Unknown fields are refused, so a typo shows up as an error
on the delivery instead of a silently missing value.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE
from marshmallow import Schema
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validate

from hub import Address
from hub import Customer
from hub import Order
from hub import OrderLine
from hub import Refund

GENDERS = ("male", "female", "other")


def _money(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(validate=validate.Range(min=0), **kwargs)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class AddressSchema(_Strict):
    province = fields.Str(allow_none=True)
    district = fields.Str(allow_none=True)
    ward = fields.Str(allow_none=True)
    line = fields.Str(allow_none=True)

    @post_load
    def build(self, data: dict, **_: Any) -> Address:
        return Address(**data)


class CustomerSchema(_Strict):
    external_id = fields.Str(allow_none=True, validate=validate.Length(max=100))
    phone = fields.Str(allow_none=True, validate=validate.Length(max=40))
    email = fields.Str(allow_none=True, validate=validate.Length(max=254))
    name = fields.Str(load_default="", validate=validate.Length(max=200))
    birthday = fields.Date(allow_none=True)
    gender = fields.Str(allow_none=True, validate=validate.OneOf(GENDERS))
    address = fields.Nested(AddressSchema, allow_none=True)
    tags = fields.List(fields.Str(validate=validate.Length(max=50)), load_default=list)
    accepts_marketing = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(("sms", "zalo", "email"))),
        values=fields.Bool(),
        load_default=dict,
    )

    @post_load
    def build(self, data: dict, **_: Any) -> Customer:
        return Customer(**{**data, "tags": tuple(data["tags"])})


class OrderLineSchema(_Strict):
    sku = fields.Str(allow_none=True)
    product_id = fields.Str(allow_none=True)
    variant_id = fields.Str(allow_none=True)
    title = fields.Str(load_default="")
    quantity = fields.Int(required=True, validate=validate.Range(min=0))
    price = _money(required=True)
    total_discount = _money(load_default=0)
    collections = fields.List(fields.Str(), load_default=list)
    gift_card = fields.Bool(load_default=False)

    @post_load
    def build(self, data: dict, **_: Any) -> OrderLine:
        return OrderLine(**{**data, "collections": tuple(data["collections"])})


class OrderSchema(_Strict):
    external_id = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    number = fields.Str(allow_none=True)
    currency = fields.Str(required=True, validate=validate.Regexp(r"^[A-Za-z]{3}$"))
    subtotal = _money(required=True)
    total_discounts = _money(load_default=0)
    shipping = _money(load_default=0)
    tax = _money(load_default=0)
    total = _money(required=True)
    discount_codes = fields.List(fields.Str(), load_default=list)
    financial_status = fields.Str(required=True)
    placed_at = fields.AwareDateTime(required=True)
    paid_at = fields.AwareDateTime(allow_none=True, load_default=None)
    cancelled_at = fields.AwareDateTime(allow_none=True, load_default=None)
    updated_at = fields.AwareDateTime(allow_none=True, load_default=None)
    lines = fields.List(fields.Nested(OrderLineSchema), load_default=list)
    customer = fields.Nested(CustomerSchema, allow_none=True, load_default=None)

    @post_load
    def build(self, data: dict, **_: Any) -> Order:
        return Order(
            **{
                **data,
                "currency": data["currency"].upper(),
                "discount_codes": tuple(data["discount_codes"]),
                "lines": tuple(data["lines"]),
            }
        )


class RefundSchema(_Strict):
    external_id = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    order_external_id = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    amount = fields.Decimal(required=True, validate=validate.Range(min=0, min_inclusive=False))
    currency = fields.Str(required=True, validate=validate.Regexp(r"^[A-Za-z]{3}$"))
    created_at = fields.AwareDateTime(required=True)
    lines = fields.List(fields.Dict(), load_default=list)
    note = fields.Str(load_default="", validate=validate.Length(max=500))

    @post_load
    def build(self, data: dict, **_: Any) -> Refund:
        return Refund(
            **{**data, "currency": data["currency"].upper(), "lines": tuple(data["lines"])}
        )


class EnvelopeSchema(Schema):
    """The event around the record: ``{"type", "timestamp", "data"}``."""

    type = fields.Str(required=True)
    timestamp = fields.AwareDateTime(load_default=None)
    data = fields.Dict(required=True)
