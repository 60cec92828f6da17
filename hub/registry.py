"""What plugins register at startup: connectors and their descriptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from marshmallow import Schema


@dataclass(frozen=True)
class ConnectorInfo:
    """A connector a merchant can create connections for.

    ``kind`` is one of ``store``, ``pos``, ``messaging`` or ``custom``.

    ``settings_schema`` is the marshmallow schema a merchant's connection
    settings are loaded with (build it on ``hub.ConnectionSettingsSchema``,
    ``StorefrontSettingsSchema`` or ``GatewaySettingsSchema``, which refuse
    unknown keys); without one, only the hub's own settings for the kind
    are accepted. ``secrets_schema`` (on ``hub.SecretsSchema``) refuses
    unknown secret names; without one, any names are accepted.
    """

    name: str
    title: str
    kind: str = "store"
    description: str = ""
    settings_schema: type[Schema] | None = None
    secrets_schema: type[Schema] | None = None


@dataclass(frozen=True)
class ConsolePage:
    """A page a plugin adds to the merchant console's navigation.

    ``endpoint`` names a view of a blueprint the plugin registers (through
    ``register_blueprints``); the view extends ``console/base.html``. ``title``
    is the navigation label, by locale (``{"vi": ..., "en": ...}``).
    ``min_role`` is the lowest role that sees it: ``owner``, ``manager`` or
    ``cashier``.
    """

    key: str
    endpoint: str
    title: dict[str, str]
    min_role: str = "manager"
