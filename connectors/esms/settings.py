"""What a merchant may set on an ``esms`` connection.

``brandname`` (the registered sender name), ``sms_type`` (2 customer care
with brandname, the default; 8 fixed number), ``oa_id`` (the Zalo OA that
sends ZNS through eSMS), ``sandbox`` (validate only), ``price``, and
``cpid`` (the CP id eSMS gives with a short code, for replies). Secrets:
``api_key``, ``secret_key``, and ``mo_private_key`` (signs the replies). The
API address is fixed by the hub, not a setting.
"""

from __future__ import annotations

from marshmallow import fields
from marshmallow import validate

from hub import GatewaySettingsSchema
from hub import Secret
from hub import SecretsSchema
from hub import SettingFlag
from hub import SettingText


class EsmsSettingsSchema(GatewaySettingsSchema):
    brandname = SettingText(max_length=20, allow_none=True)
    sms_type = fields.Integer(validate=validate.Range(min=1, max=99))
    oa_id = SettingText(max_length=40, allow_none=True, validate=validate.Regexp(r"^[0-9]+$"))
    sandbox = SettingFlag()
    cpid = SettingText(max_length=40, allow_none=True)


class EsmsSecretsSchema(SecretsSchema):
    api_key = Secret()
    secret_key = Secret()
    mo_private_key = Secret()
