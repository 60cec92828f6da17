"""The messaging settings document as a merchant sends it: its marshmallow schemas.

``SettingsSchema`` loads ``PUT /api/v1/messaging/settings`` (and the
console's form): unknown fields are refused, each value checked for its
type and range; ``settings`` then checks what needs the database (the
connections, the kinds and their rewards).
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from marshmallow import fields
from marshmallow import validate

from hub.messaging.advertising import ZNS_TAGS
from hub.messaging.gateways import CHANNELS
from hub.messaging.templates import LOCALES

HOUR_MINUTE = r"^([01]\d|2[0-3]):[0-5]\d$"


def _not_negative(value: Decimal) -> None:
    if value < 0:
        raise SchemaError("must be at least 0")


class QuietHoursSchema(Schema):
    enabled = fields.Bool(load_default=True)
    start = fields.Str(load_default="21:00", validate=validate.Regexp(HOUR_MINUTE))
    end = fields.Str(load_default="08:00", validate=validate.Regexp(HOUR_MINUTE))


class CapsSchema(Schema):
    per_day = fields.Int(allow_none=True, validate=validate.Range(min=1, max=1000))
    per_week = fields.Int(allow_none=True, validate=validate.Range(min=1, max=5000))


class ZaloTemplateSchema(Schema):
    template_id = fields.Str(allow_none=True, validate=validate.Length(min=1, max=40))
    #: The template's purpose tag in Zalo: transaction, customer_care or promotion.
    tag = fields.Str(allow_none=True, validate=validate.OneOf(ZNS_TAGS))
    params = fields.Dict(
        keys=fields.Str(validate=validate.Length(min=1, max=64)),
        values=fields.Str(validate=validate.Length(max=400)),
        validate=validate.Length(max=30),
    )


class KindSettingsSchema(Schema):
    enabled = fields.Bool()
    templates = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(LOCALES)),
        values=fields.Str(allow_none=True, validate=validate.Length(min=1, max=1000)),
    )
    zalo_template = fields.Nested(ZaloTemplateSchema)
    email_subject = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(LOCALES)),
        values=fields.Str(allow_none=True, validate=validate.Length(min=1, max=200)),
    )
    options = fields.Dict(keys=fields.Str())


class ConnectionsSchema(Schema):
    zalo = fields.Int(allow_none=True)
    sms = fields.Int(allow_none=True)
    email = fields.Int(allow_none=True)


class PromotionQuotaSchema(Schema):
    daily = fields.Int(allow_none=True, validate=validate.Range(min=0, max=10_000_000))
    monthly = fields.Int(allow_none=True, validate=validate.Range(min=0, max=100_000_000))


class SettingsSchema(Schema):
    """The settings document as a merchant sends it; unknown fields are refused."""

    channel_order = fields.List(
        fields.Str(validate=validate.OneOf(CHANNELS)),
        validate=validate.Length(min=1, max=len(CHANNELS)),
    )
    connections = fields.Nested(ConnectionsSchema)
    unicode = fields.Bool()
    transactional_needs_consent = fields.Bool()
    locale = fields.Str(allow_none=True, validate=validate.OneOf(LOCALES))
    quiet_hours = fields.Nested(QuietHoursSchema)
    caps = fields.Nested(CapsSchema)
    daily_budget = fields.Decimal(
        as_string=True,
        allow_none=True,
        allow_nan=False,
        validate=_not_negative,
        metadata={"type": "string", "format": "decimal", "example": "500000"},
    )
    daily_limit = fields.Int(allow_none=True, validate=validate.Range(min=0, max=10_000_000))
    sms_opt_out = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(LOCALES)),
        values=fields.Str(validate=validate.Length(min=4, max=80)),
    )
    zns_promotion_quota = fields.Nested(PromotionQuotaSchema)
    kinds = fields.Dict(keys=fields.Str(), values=fields.Nested(KindSettingsSchema))
