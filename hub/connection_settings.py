"""What a merchant may write into a connection's settings and secrets, per connector.

Each connector declares the marshmallow schema of its settings on its
``Connector`` (``settings_schema``), built on one of the base schemas
here, which refuse unknown keys, NUL characters and over-long strings. A
connector that declares none gets the hub's own settings for its kind
(the widget's for storefronts, ``price`` for gateways) and nothing else.

Only what a merchant writes is checked: keys stored before a schema
existed, and keys the hub itself keeps in settings (a backfill cursor, a
pinned signature variant), stay where they are and are ignored by readers
that do not know them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from marshmallow import RAISE
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from marshmallow import fields
from marshmallow import pre_load
from marshmallow import validate

from hub.errors import ValidationError

if TYPE_CHECKING:
    from hub.registry import Connector

#: The longest string a setting holds unless its field says otherwise.
MAX_TEXT = 1000
#: The longest secret value (OAuth tokens run to a few hundred characters).
MAX_SECRET = 10_000
#: The longest secret name.
MAX_SECRET_NAME = 100


class Text(fields.String):
    """A setting's string: no NUL character, at most ``max_length`` (1,000) characters."""

    def __init__(self, *, max_length: int = MAX_TEXT, **kwargs: Any) -> None:
        validators = [validate.Length(max=max_length)]
        extra = kwargs.pop("validate", None)
        if callable(extra):
            validators.append(extra)
        elif extra:
            validators.extend(extra)
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise SchemaError("must not contain a NUL character")
        return text


def Flag(**kwargs: Any) -> fields.Boolean:
    """A setting that is JSON ``true`` or ``false`` only: the string ``"false"`` is refused."""
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


def _nul_path(value: Any) -> str | None:
    """Return where in ``value`` a NUL character sits (a key or a string), or None.

    Walks with a stack of its own, so a deeply nested body cannot exhaust
    the interpreter's recursion limit here.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path or "_schema"
        elif isinstance(item, dict):
            for key, child in item.items():
                where = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and "\x00" in key:
                    return where
                stack.append((where, child))
        elif isinstance(item, list):
            stack.extend((f"{path}.{index}", child) for index, child in enumerate(item))
    return None


class ConnectionSettingsSchema(Schema):
    """The base of every connector's settings schema: unknown keys and NUL are refused."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _refuse_nul(self, data: Any, **kwargs: Any) -> Any:
        where = _nul_path(data)
        if where is not None:
            raise SchemaError({where: ["must not contain a NUL character"]})
        return data


class WidgetThemeSchema(ConnectionSettingsSchema):
    """The storefront's own widget theme, over the program's."""

    colour = Text(max_length=32, allow_none=True, validate=validate.Regexp(r"^#[0-9a-fA-F]{3,8}$"))
    position = Text(max_length=10, allow_none=True, validate=validate.OneOf(("left", "right")))
    launcher_text = Text(max_length=100, allow_none=True)


class WidgetRateLimitsSchema(ConnectionSettingsSchema):
    visitor_per_minute = fields.Int(strict=True, validate=validate.Range(min=1, max=10**9))
    connection_per_minute = fields.Int(strict=True, validate=validate.Range(min=1, max=10**9))


LINK = "must start with https://, http:// or /"


class StorefrontSettingsSchema(ConnectionSettingsSchema):
    """Settings the hub reads on any connection a widget is served for (docs/widget.md)."""

    widget = fields.Nested(WidgetThemeSchema)
    storefront_origins = fields.List(
        Text(validate=validate.Regexp(r"^https?://[^/\s]+/?$")), validate=validate.Length(max=50)
    )
    #: Links a visitor follows: web addresses or paths on the store, never ``javascript:``.
    join_url = Text(allow_none=True, validate=validate.Regexp(r"^(https?://|/)", error=LINK))
    sign_in_url = Text(allow_none=True, validate=validate.Regexp(r"^(https?://|/)", error=LINK))
    referral_url = Text(allow_none=True, validate=validate.Regexp(r"^(https?://|/)", error=LINK))
    widget_rate_limits = fields.Nested(WidgetRateLimitsSchema)


def _not_negative(value: Decimal) -> None:
    if value < 0:
        raise SchemaError("must be at least 0")


class GatewaySettingsSchema(ConnectionSettingsSchema):
    """Settings the hub reads on any messaging connection: what one message costs."""

    price = fields.Decimal(
        as_string=True,
        allow_nan=False,
        validate=[_not_negative, validate.Range(max=Decimal(10**12))],
        metadata={"type": "string", "format": "decimal", "example": "770"},
    )


def Secret(**kwargs: Any) -> Text:
    """A secret's value: a string of at most 10,000 characters, no NUL."""
    return Text(max_length=MAX_SECRET, **kwargs)


class SecretsSchema(Schema):
    """The base of a connector's secrets schema: unknown names are refused.

    ``widget_secret`` is the one every connection may hold: the store signs
    widget visitor tokens with it (``POST .../widget-secret`` makes one).
    """

    class Meta:
        unknown = RAISE

    widget_secret = Secret()


def settings_schema_of(info: Connector) -> Schema:
    """Return the schema a merchant's settings for this connector are loaded with."""
    if info.settings_schema is not None:
        return info.settings_schema()
    if info.kind == "messaging":
        return GatewaySettingsSchema()
    return StorefrontSettingsSchema()


def _refused(info: Connector, what: str, errors: Any) -> ValidationError:
    """The 422 naming the refused keys (the first few, shortened, in the message)."""
    keys = sorted(str(key)[:60] for key in errors) if isinstance(errors, dict) else []
    named = ", ".join(keys[:5]) + (", ..." if len(keys) > 5 else "")
    return ValidationError(
        f"connector {info.name!r} does not take these {what}: {named}; see details, and the "
        "connector's guide in docs/ for what it takes",
        details={what: errors},
        code=f"invalid_{what}",
    )


def check_settings(info: Connector, settings: Any, *, partial: bool) -> dict[str, Any]:
    """Load a merchant's settings for ``info``'s connector; return them as they are stored.

    Raises ``ValidationError`` (422) naming every refused key: unknown
    ones, wrong types, NUL characters, over-long strings. ``partial`` (an
    update) checks only the keys given: required keys may be left out and
    no defaults are filled in over what is stored.
    """
    if not isinstance(settings, dict):
        raise _refused(info, "settings", {"_schema": ["must be an object"]})
    schema = settings_schema_of(info)
    try:
        loaded = schema.load(settings, partial=partial)
    except SchemaError as error:
        raise _refused(info, "settings", error.messages) from None
    return schema.dump(loaded)


def check_secrets(info: Connector, secrets: Any, *, partial: bool) -> dict[str, str]:
    """Load a merchant's secrets for ``info``'s connector; return them as they are stored.

    Names and values are strings without NUL (names up to 100 characters,
    values up to 10,000); a connector that declares ``secrets_schema``
    also has unknown names refused.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(secrets, dict):
        raise _refused(info, "secrets", {"_schema": ["must be an object"]})
    for name, value in secrets.items():
        if not isinstance(name, str) or not 0 < len(name) <= MAX_SECRET_NAME or "\x00" in name:
            errors[repr(name)] = [f"a name is 1 to {MAX_SECRET_NAME} characters, no NUL"]
        elif not isinstance(value, str) or len(value) > MAX_SECRET or "\x00" in value:
            errors[name] = [f"a secret is a string of at most {MAX_SECRET} characters, no NUL"]
    if errors:
        raise _refused(info, "secrets", errors)
    if info.secrets_schema is None:
        return dict(secrets)
    schema = info.secrets_schema()
    try:
        return schema.dump(schema.load(secrets, partial=partial))
    except SchemaError as error:
        raise _refused(info, "secrets", error.messages) from None
