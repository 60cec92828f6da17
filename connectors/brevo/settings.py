"""What a merchant may set on a ``brevo`` connection.

``sender_email`` (a sender verified in Brevo) and ``sender_name``,
``reply_to``, and ``price`` (what one e-mail costs, for the daily budget).
Secrets: ``api_key`` (Brevo, SMTP & API, API keys) and ``webhook_token``
(the bearer token Brevo presents on the webhook, chosen when the webhook is
created). The API address is fixed by the hub, not a setting.
"""

from __future__ import annotations

from marshmallow import fields
from marshmallow import validate

from hub import GatewaySettingsSchema
from hub import Secret
from hub import SecretsSchema
from hub import SettingText


class BrevoSettingsSchema(GatewaySettingsSchema):
    sender_email = fields.Email(validate=validate.Length(max=254))
    sender_name = SettingText(max_length=100, allow_none=True)
    reply_to = fields.Email(allow_none=True, validate=validate.Length(max=254))


class BrevoSecretsSchema(SecretsSchema):
    api_key = Secret()
    webhook_token = Secret()
