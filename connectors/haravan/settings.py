"""What a merchant may set on a ``haravan`` connection.

``org_id`` (the shop's organisation id, digits), ``shop`` (its
``name.myharavan.com`` domain), ``verify_token`` (the Verify Token of a
private app's webhook subscription), ``legacy_hmac_sha1`` (a private app
that still signs with SHA-1), ``currency``, ``inject_widget`` and the
widget's settings. The API addresses are the operator's
(``HUB_PLUGINS_CONFIG["haravan"]``); the backfill cursor and shop name are
kept by the hub.
"""

from __future__ import annotations

from marshmallow import validate

from hub import Secret
from hub import SecretsSchema
from hub import SettingFlag
from hub import SettingText
from hub import StorefrontSettingsSchema

#: A shop's Haravan domain (lowercase).
SHOP_DOMAIN = r"^[a-z0-9][a-z0-9-]*\.myharavan\.com$"


class HaravanSettingsSchema(StorefrontSettingsSchema):
    org_id = SettingText(max_length=30, validate=validate.Regexp(r"^[0-9]+$", error="digits only"))
    shop = SettingText(
        max_length=255,
        validate=validate.Regexp(SHOP_DOMAIN, error="must look like name.myharavan.com"),
    )
    verify_token = SettingText(max_length=200, allow_none=True)
    legacy_hmac_sha1 = SettingFlag()
    currency = SettingText(max_length=3, allow_none=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    inject_widget = SettingFlag()


class HaravanSecretsSchema(SecretsSchema):
    """The shop's tokens, and a private app's ``webhook_secret``."""

    access_token = Secret()
    refresh_token = Secret()
    webhook_secret = Secret()
