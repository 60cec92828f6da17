"""What a merchant may set on a ``zalo`` connection.

``app_id`` (the Zalo app the OA authorized, digits), ``mode``
(``development`` sends only to the app's admins) and ``price``. The API and
OAuth addresses are fixed by the hub, not settings.
"""

from __future__ import annotations

from marshmallow import validate

from hub import GatewaySettingsSchema
from hub import Secret
from hub import SecretsSchema
from hub import SettingText


class ZaloSettingsSchema(GatewaySettingsSchema):
    app_id = SettingText(max_length=40, validate=validate.Regexp(r"^[0-9]+$", error="digits only"))
    mode = SettingText(
        max_length=20, allow_none=True, validate=validate.OneOf(("development", "production"))
    )


class ZaloSecretsSchema(SecretsSchema):
    """The app's secret, the OA's webhook key, and its tokens (or a code to exchange once)."""

    app_secret = Secret()
    oa_secret_key = Secret()
    access_token = Secret()
    refresh_token = Secret()
    access_token_expires_at = Secret()
    authorization_code = Secret()
    code_verifier = Secret()
