"""What a merchant may set on a ``pos`` connection: the counter's location, redemption terms."""

from __future__ import annotations

from marshmallow import fields

from connectors.pos.redemption import RedemptionTermsSchema
from hub import ConnectionSettingsSchema
from hub import SettingText


class PosSettingsSchema(ConnectionSettingsSchema):
    """``location`` names the counter; ``redeem_points`` holds the terms of redeeming at it."""

    location = SettingText(max_length=200, allow_none=True)
    redeem_points = fields.Nested(RedemptionTermsSchema)
