"""What a merchant may set on an ``smtp`` connection.

``host`` and ``port`` of the SMTP server (587 by default), ``security``
(``starttls``, the default; ``ssl`` for port 465; ``none`` only for a relay
without a password), ``username``, the sender (``from_email``,
``from_name``), ``reply_to`` and ``price`` (what one e-mail costs, for the
daily budget). Secret: ``password``. The host is checked against the hub's
address policy right before each connection: a merchant cannot point the
hub at an inside address.
"""

from __future__ import annotations

from marshmallow import fields
from marshmallow import validate

from hub import GatewaySettingsSchema
from hub import Secret
from hub import SecretsSchema
from hub import SettingText

LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = rf"^(?=.{{1,253}}$){LABEL}(\.{LABEL})*$"
SECURITY = ("starttls", "ssl", "none")


class SmtpSettingsSchema(GatewaySettingsSchema):
    host = SettingText(max_length=253, validate=validate.Regexp(HOSTNAME, error="a host name"))
    port = fields.Integer(validate=validate.Range(min=1, max=65535))
    security = fields.String(validate=validate.OneOf(SECURITY))
    username = SettingText(max_length=254, allow_none=True)
    from_email = fields.Email(validate=validate.Length(max=254))
    from_name = SettingText(max_length=100, allow_none=True)
    reply_to = fields.Email(allow_none=True, validate=validate.Length(max=254))


class SmtpSecretsSchema(SecretsSchema):
    password = Secret()
