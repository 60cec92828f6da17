"""Marshmallow schemas of the core API: members, orders, merchant, connections."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate

from hub.members.directory import CHANNELS
from hub.members.directory import GENDERS
from hub.orders.recording import FINANCIAL_STATUSES

#: How amounts appear in the spec: decimal strings, so no client parses money as a float.
AMOUNT = {"type": "string", "format": "decimal", "example": "150000"}

#: The range of a BIGINT column (and of SQLite's INTEGER): every id and count fits in it.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: The largest value of an INTEGER column on PostgreSQL (line quantities, positions).
INT32_MAX = 2**31 - 1
#: The largest amount of money the API takes; the Money column (NUMERIC(20, 4)) holds it.
MAX_MONEY = Decimal(10) ** 15


class Int64(fields.Integer):
    """An integer its column can hold: 64 bits unless narrowed; beyond it answers 422.

    A number out of range never reaches the database, where PostgreSQL would
    refuse it and SQLite's driver raise: the field that carried it is named.
    """

    def __init__(self, *, minimum: int = INT64_MIN, maximum: int = INT64_MAX, **kwargs) -> None:
        super().__init__(**kwargs)
        self.validators.insert(0, validate.Range(min=minimum, max=maximum))


def _not_negative(value: Decimal) -> None:
    if value < 0:
        raise ValidationError("must be at least 0")
    if value > MAX_MONEY:
        raise ValidationError(f"must be at most {MAX_MONEY}")


def _money(**kwargs) -> fields.Decimal:
    """An amount of money: a decimal string (numbers are accepted), 0 to ``MAX_MONEY``."""
    return fields.Decimal(
        as_string=True,
        validate=_not_negative,
        allow_nan=False,
        metadata=AMOUNT,
        **kwargs,
    )


class ConsentSchema(Schema):
    """A consent as it can be shown: given or withdrawn, when, how, by whom, to what."""

    granted = fields.Bool()
    source = fields.Str()
    actor = fields.Str()
    evidence = fields.Str(allow_none=True)
    changed_at = fields.AwareDateTime()


class IdentitySchema(Schema):
    connection_id = Int64(required=True)
    external_id = fields.Str(required=True, validate=validate.Length(min=1, max=100))


class MemberInSchema(Schema):
    """What a client may set on a member; unknown fields are refused."""

    phone = fields.Str(allow_none=True, validate=validate.Length(max=40))
    email = fields.Str(allow_none=True, validate=validate.Length(max=254))
    name = fields.Str(validate=validate.Length(max=200))
    birthday = fields.Date(allow_none=True)
    gender = fields.Str(allow_none=True, validate=validate.OneOf(GENDERS))
    province = fields.Str(allow_none=True, validate=validate.Length(max=100))
    district = fields.Str(allow_none=True, validate=validate.Length(max=100))
    ward = fields.Str(allow_none=True, validate=validate.Length(max=100))
    address = fields.Str(allow_none=True, validate=validate.Length(max=300))
    tags = fields.List(
        fields.Str(validate=validate.Length(min=1, max=50)), validate=validate.Length(max=50)
    )
    attributes = fields.Dict(keys=fields.Str(validate=validate.Length(max=64)))
    consents = fields.Dict(keys=fields.Str(validate=validate.OneOf(CHANNELS)), values=fields.Bool())
    consent_evidence = fields.Str(
        validate=validate.Length(min=3, max=500),
        metadata={
            "description": "What the member agreed to and where, kept with the consents "
            "given in this request: the form's wording, a receipt or a recording reference"
        },
    )


class TierRefSchema(Schema):
    id = fields.Int()
    name = fields.Str()


class PointsSummarySchema(Schema):
    available = fields.Int()
    pending = fields.Int()


class MemberSchema(Schema):
    id = fields.Int()
    code = fields.Str()
    phone = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)
    name = fields.Str()
    birthday = fields.Date(allow_none=True)
    gender = fields.Str(allow_none=True)
    province = fields.Str(allow_none=True)
    district = fields.Str(allow_none=True)
    ward = fields.Str(allow_none=True)
    address = fields.Str(allow_none=True)
    tags = fields.List(fields.Str())
    attributes = fields.Dict()
    status = fields.Str()
    joined_via = fields.Str(
        dump_only=True,
        metadata={"description": "How the member joined: store, pos, import, widget or api."},
    )
    consents = fields.Dict(keys=fields.Str(), values=fields.Nested(ConsentSchema))
    identities = fields.List(fields.Nested(IdentitySchema))
    points = fields.Nested(PointsSummarySchema)
    tier = fields.Nested(TierRefSchema, allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class MemberSearchArgs(Schema):
    """The members list's conditions: the console's filters, every one met."""

    q = fields.Str(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Name (accents and case ignored), email, phone digits or code."},
    )
    phone = fields.Str()
    email = fields.Str()
    tag = fields.Str(validate=validate.Length(max=100))
    tier_id = Int64(minimum=1, metadata={"description": "Members in this tier now."})
    points_min = Int64(metadata={"description": "Available points at least this."})
    points_max = Int64(metadata={"description": "Available points at most this."})
    spent_min = _money()
    spent_max = _money()
    ordered_after = fields.AwareDateTime(
        metadata={"description": "Last order at or after this time (ISO 8601 with an offset)."}
    )
    ordered_before = fields.AwareDateTime(
        metadata={"description": "Last order before this time (ISO 8601 with an offset)."}
    )
    birthday_month = fields.Int(validate=validate.Range(min=1, max=12))
    province = fields.Str(validate=validate.Length(min=1, max=100))
    connection_id = Int64(
        minimum=1, metadata={"description": "Members known to this source connection."}
    )
    consent = fields.Str(
        validate=validate.OneOf(CHANNELS),
        metadata={"description": "Members who gave their consent on this channel."},
    )
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.Str(load_default=None)


class MergeSchema(Schema):
    from_member_id = Int64(required=True)


class AddressSchema(Schema):
    province = fields.Str(allow_none=True)
    district = fields.Str(allow_none=True)
    ward = fields.Str(allow_none=True)
    line = fields.Str(allow_none=True)


class CustomerSchema(Schema):
    external_id = fields.Str(allow_none=True, validate=validate.Length(max=100))
    phone = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)
    name = fields.Str(load_default="")
    birthday = fields.Date(allow_none=True)
    gender = fields.Str(allow_none=True, validate=validate.OneOf(GENDERS))
    address = fields.Nested(AddressSchema, allow_none=True)
    accepts_marketing = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(CHANNELS)), values=fields.Bool(), load_default=dict
    )


class OrderLineSchema(Schema):
    sku = fields.Str(allow_none=True)
    product_id = fields.Str(allow_none=True)
    variant_id = fields.Str(allow_none=True)
    title = fields.Str(load_default="")
    quantity = Int64(required=True, minimum=0, maximum=INT32_MAX)
    price = _money(required=True)
    total_discount = _money(load_default=Decimal(0))
    collections = fields.List(fields.Str(), load_default=list)
    gift_card = fields.Bool(load_default=False)


class OrderInSchema(Schema):
    """An order sent by a custom integration; amounts as strings or numbers."""

    connection_id = Int64(allow_none=True)
    source = fields.Str(validate=validate.Regexp(r"^[a-z0-9_.-]{1,40}$"))
    external_id = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    number = fields.Str(allow_none=True)
    currency = fields.Str(validate=validate.Regexp(r"^[A-Za-z]{3}$"))
    subtotal = _money(required=True)
    total_discounts = _money(load_default=Decimal(0))
    shipping = _money(load_default=Decimal(0))
    tax = _money(load_default=Decimal(0))
    total = _money(required=True)
    discount_codes = fields.List(fields.Str(), load_default=list)
    financial_status = fields.Str(required=True, validate=validate.OneOf(FINANCIAL_STATUSES))
    placed_at = fields.AwareDateTime(required=True)
    paid_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    updated_at = fields.AwareDateTime(
        allow_none=True,
        metadata={
            "description": "when your system last changed the order: a send older than the "
            "last one applied changes nothing"
        },
    )
    lines = fields.List(fields.Nested(OrderLineSchema), load_default=list)
    customer = fields.Nested(CustomerSchema, allow_none=True)


class OrderSchema(Schema):
    id = fields.Int()
    connection_id = fields.Int(allow_none=True)
    source = fields.Str()
    external_id = fields.Str()
    number = fields.Str(allow_none=True)
    member_id = fields.Int(allow_none=True)
    currency = fields.Str()
    subtotal = fields.Decimal(as_string=True, metadata=AMOUNT)
    total_discounts = fields.Decimal(as_string=True, metadata=AMOUNT)
    shipping = fields.Decimal(as_string=True, metadata=AMOUNT)
    tax = fields.Decimal(as_string=True, metadata=AMOUNT)
    total = fields.Decimal(as_string=True, metadata=AMOUNT)
    discount_codes = fields.List(fields.Str())
    financial_status = fields.Str()
    placed_at = fields.AwareDateTime()
    paid_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    lines = fields.List(fields.Nested(OrderLineSchema))
    created_at = fields.AwareDateTime()


class OrderListArgs(Schema):
    member_id = Int64()
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.Str(load_default=None)


class MerchantSchema(Schema):
    id = fields.Int(dump_only=True)
    name = fields.Str(validate=validate.Length(min=1, max=200))
    currency = fields.Str(validate=validate.Regexp(r"^[A-Z]{3}$"))
    timezone = fields.Str()
    locale = fields.Str(validate=validate.OneOf(("vi", "en")))
    created_at = fields.AwareDateTime(dump_only=True)


SETTINGS_DOC = {
    "description": "The connector's own settings (its guide in docs/ lists them); an unknown "
    "key, a wrong type, NUL or a string over 1,000 characters answers 422 invalid_settings. "
    "A PATCH merges the keys it names into the stored settings."
}
SECRETS_DOC = {
    "description": "Stored encrypted, never shown again: names up to 100 characters, values "
    "up to 10,000, no NUL; a connector that lists its secrets refuses other names "
    "(422 invalid_secrets)."
}


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("must not contain a NUL character")


class ConnectionInSchema(Schema):
    """A new connection; ``settings`` and ``secrets`` are checked by the connector's schemas."""

    connector = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    name = fields.Str(load_default="", validate=[validate.Length(max=200), _no_nul])
    settings = fields.Dict(keys=fields.Str(), load_default=dict, metadata=SETTINGS_DOC)
    secrets = fields.Dict(
        keys=fields.Str(), values=fields.Str(), load_default=dict, metadata=SECRETS_DOC
    )


class ConnectionUpdateSchema(Schema):
    """What a PATCH changes; settings and secrets named are merged into the stored ones."""

    name = fields.Str(validate=[validate.Length(max=200), _no_nul])
    status = fields.Str(validate=validate.OneOf(("active", "disabled")))
    settings = fields.Dict(keys=fields.Str(), metadata=SETTINGS_DOC)
    secrets = fields.Dict(keys=fields.Str(), values=fields.Str(), metadata=SECRETS_DOC)


class ConnectionSchema(Schema):
    id = fields.Int()
    connector = fields.Str()
    name = fields.Str()
    status = fields.Str()
    settings = fields.Dict()
    #: Names of the stored secrets; their values are never returned.
    secret_names = fields.List(fields.Str())
    created_at = fields.AwareDateTime()


class WidgetSecretSchema(Schema):
    connection_id = fields.Int()
    widget_secret = fields.Str()
