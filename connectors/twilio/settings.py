"""What a merchant may set on a ``twilio`` connection.

``account_sid`` (``AC`` and 32 hex digits: it is part of the API path),
``from_number`` (E.164) or ``messaging_service_sid`` (``MG`` and 32 hex
digits), and ``price``. The API address is fixed by the hub, not a setting.
"""

from __future__ import annotations

from marshmallow import validate

from hub import GatewaySettingsSchema
from hub import Secret
from hub import SecretsSchema
from hub import SettingText


class TwilioSettingsSchema(GatewaySettingsSchema):
    account_sid = SettingText(
        max_length=34,
        validate=validate.Regexp(r"^AC[0-9a-fA-F]{32}$", error="AC and 32 hex digits"),
    )
    from_number = SettingText(
        max_length=16,
        allow_none=True,
        validate=validate.Regexp(r"^\+[1-9][0-9]{6,14}$", error="an E.164 number: +15005550006"),
    )
    messaging_service_sid = SettingText(
        max_length=34,
        allow_none=True,
        validate=validate.Regexp(r"^MG[0-9a-fA-F]{32}$", error="MG and 32 hex digits"),
    )


class TwilioSecretsSchema(SecretsSchema):
    auth_token = Secret()
