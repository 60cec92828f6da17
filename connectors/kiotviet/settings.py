"""What a merchant may set on a ``kiotviet`` connection.

``retailer`` (the shop name KiotViet's API takes in the ``Retailer``
header), ``timezone`` (an IANA zone, the shop's clock for dates without an
offset) and ``currency``. The registered webhooks and the pinned signature
variant are kept in settings by the hub and are not the merchant's to set.
The API addresses are operator configuration (``HUB_PLUGINS_CONFIG``).
"""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from marshmallow import ValidationError as SchemaError
from marshmallow import validate

from hub import ConnectionSettingsSchema
from hub import Secret
from hub import SecretsSchema
from hub import SettingText


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(name: str) -> None:
    if name not in _zones():
        raise SchemaError("must be an IANA time zone such as Asia/Ho_Chi_Minh")


class KiotVietSettingsSchema(ConnectionSettingsSchema):
    retailer = SettingText(
        max_length=100, validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    )
    timezone = SettingText(max_length=64, allow_none=True, validate=_known_zone)
    currency = SettingText(
        max_length=3, allow_none=True, validate=validate.Regexp(r"^[A-Za-z]{3}$")
    )


class KiotVietSecretsSchema(SecretsSchema):
    """The shop's Public API client and the key its webhooks are signed with."""

    client_id = Secret()
    client_secret = Secret()
    webhook_secret = Secret()
