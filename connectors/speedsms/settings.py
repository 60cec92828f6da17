"""What a merchant may set on a ``speedsms`` connection.

``sender`` (a registered brandname, or a device id for ``sms_type`` 5),
``sms_type`` (2 random number, 3 brandname, 4 default brandname, 5 Android
app) and ``price``. The API address is fixed by the hub, not a setting.
"""

from __future__ import annotations

from marshmallow import fields
from marshmallow import validate

from hub import GatewaySettingsSchema
from hub import Secret
from hub import SecretsSchema
from hub import SettingText


class SpeedSmsSettingsSchema(GatewaySettingsSchema):
    sender = SettingText(max_length=100, allow_none=True)
    sms_type = fields.Integer(validate=validate.OneOf((2, 3, 4, 5)))


class SpeedSmsSecretsSchema(SecretsSchema):
    access_token = Secret()
