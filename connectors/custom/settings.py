"""What a merchant may set on a ``custom`` connection: the widget's settings, two secrets."""

from __future__ import annotations

from hub import Secret
from hub import SecretsSchema
from hub import StorefrontSettingsSchema


class CustomSettingsSchema(StorefrontSettingsSchema):
    """The custom storefront reads no settings of its own; the widget's are accepted."""


class CustomSecretsSchema(SecretsSchema):
    """``webhook_secret`` (``whsec_...``) signs deliveries; the previous one, during a rotation."""

    webhook_secret = Secret()
    previous_webhook_secret = Secret()
