"""What a merchant may set on a ``shopify`` connection.

``shop`` (``name.myshopify.com``, nothing else: the hub calls that host),
``currency`` (until setup reads the store's own), ``inject_widget``
(``false`` keeps the widget script out of the theme) and the widget's
settings. The Admin API address and version are the operator's
(``HUB_PLUGINS_CONFIG["shopify"]``); the backfill cursor, scopes and shop
name are kept by the hub.
"""

from __future__ import annotations

from marshmallow import validate

from hub import Secret
from hub import SecretsSchema
from hub import SettingFlag
from hub import SettingText
from hub import StorefrontSettingsSchema

#: A store's permanent domain, as Shopify issues it (lowercase).
SHOP_DOMAIN = r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$"


class ShopifySettingsSchema(StorefrontSettingsSchema):
    shop = SettingText(
        max_length=255,
        validate=validate.Regexp(SHOP_DOMAIN, error="must look like name.myshopify.com"),
    )
    currency = SettingText(max_length=3, allow_none=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    inject_widget = SettingFlag()


class ShopifySecretsSchema(SecretsSchema):
    """An ``access_token`` of the store, and a custom app's ``webhook_secret``."""

    access_token = Secret()
    webhook_secret = Secret()
