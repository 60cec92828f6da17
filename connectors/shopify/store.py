"""One connected Shopify store: its settings, secrets, URLs and an API client for it.

App settings come from ``HUB_PLUGINS_CONFIG["shopify"]``:

- ``api_key`` and ``api_secret``: the app's client id and secret (OAuth, and
  the key Shopify signs app webhooks, OAuth redirects and app proxy requests with);
  ``previous_api_secret`` keeps deliveries verifying for the hour after a rotation.
- ``scopes``: the access scopes asked for at install (default below).
- ``api_version``: the Admin API version (default ``client.API_VERSION``).
- ``shop_url``: where a store's admin is reached, ``https://{shop}`` unless a
  test or a demo points it at the store simulator.
- ``proxy_path``: the storefront path of the app proxy (``/apps/loyalty``), when
  the app has one: the widget is then served through it.
- ``merchant_id``: on a single-merchant hub, the merchant an install started
  from the Shopify admin belongs to.

A connection's settings hold ``shop`` (``name.myshopify.com``, the only host
the hub calls for it: a platform address is never a merchant's setting) and
``api_version``; its secrets hold ``access_token`` and, for a custom app
made in the store's admin, ``webhook_secret`` (that app's API secret key, which
signs its webhooks).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from connectors.shopify.client import API_VERSION
from connectors.shopify.client import ShopifyAdmin
from hub import Connection
from hub import Hub
from hub import PermanentError
from hub import connection_secrets
from hub import open_connection
from hub import outside_http
from hub import public_url

log = logging.getLogger(__name__)

NAME = "shopify"
DEFAULT_SCOPES = "read_customers,read_orders,write_discounts,write_script_tags"
#: A store's permanent domain, as Shopify gives it (lower case, no port, no path).
SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
#: Admin API versions are named by quarter (``2026-01``), or ``unstable``.
API_VERSION_NAME = re.compile(r"\d{4}-\d{2}|unstable")


def valid_shop(shop: Any) -> bool:
    """Say whether ``shop`` is exactly a ``name.myshopify.com`` domain, and nothing else."""
    return isinstance(shop, str) and SHOP_DOMAIN.fullmatch(shop) is not None


def app_config(hub: Hub) -> dict[str, Any]:
    return hub.plugin_config(NAME)


def webhook_url(hub: Hub, connection_id: int) -> str:
    return f"{public_url(hub, 'Shopify')}/webhooks/{NAME}/{connection_id}"


def shop_base_url(hub: Hub, shop: str) -> str:
    """Return where the store ``shop`` is reached: ``https://{shop}``, or the operator's template.

    :raise PermanentError: ``shop`` is not a ``name.myshopify.com`` domain.
    """
    if not valid_shop(shop):
        raise PermanentError(
            f"{shop!r} is not a Shopify store domain; the hub calls only name.myshopify.com"
        )
    template = app_config(hub).get("shop_url") or "https://{shop}"
    return template.format(shop=shop).rstrip("/")


def api_version(hub: Hub, settings: dict[str, Any]) -> str:
    """Return the Admin API version to call: the connection's if well-formed, else the app's."""
    pinned = settings.get("api_version")
    if isinstance(pinned, str) and API_VERSION_NAME.fullmatch(pinned):
        return pinned
    return app_config(hub).get("api_version") or API_VERSION


def webhook_secrets(hub: Hub, connection: Connection) -> list[str]:
    """Return the keys a delivery for this connection may be signed with, newest first."""
    stored = connection_secrets(hub, connection)
    config = app_config(hub)
    keys = [
        stored.get("webhook_secret"),
        config.get("api_secret"),
        config.get("previous_api_secret"),
    ]
    return [k for k in keys if k]


@dataclass
class OpenStore:
    connection: Connection
    admin: ShopifyAdmin
    secrets: dict[str, str]

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.connection.settings or {})


def open_store(hub: Hub, connection_id: int, **client_options: Any) -> OpenStore | None:
    """Return an API client for an active connection, or None when calls must stop.

    Every outgoing job starts here: a disabled, uninstalled or deleted
    connection makes no call at all, and neither does one whose ``shop`` is
    not a ``name.myshopify.com`` domain (the only host it may call).
    """
    opened = open_connection(hub, NAME, connection_id)
    if opened is None:
        return None
    connection, secrets = opened.connection, opened.secrets
    token = secrets["access_token"]
    settings = connection.settings or {}
    shop = settings.get("shop")
    if not valid_shop(shop):
        log.warning(
            "Shopify connection %s names no store the hub may call (%r): no call made; "
            "set settings.shop to the store's name.myshopify.com domain",
            connection_id,
            shop,
        )
        return None
    admin = ShopifyAdmin(
        shop_base_url(hub, shop),
        token,
        api_version=api_version(hub, settings),
        http=outside_http(hub),
        **client_options,
    )
    return OpenStore(connection=connection, admin=admin, secrets=secrets)
