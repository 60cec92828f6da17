"""One connected Haravan shop: settings, secrets, URLs and an API client for it.

App settings come from ``HUB_PLUGINS_CONFIG["haravan"]``: ``client_id`` and
``client_secret`` (OpenID Connect, and the key app webhooks are signed with),
``scopes``, ``verify_token`` (the Verify Token entered beside the callback URL
in the partner dashboard), and ``accounts_url``, ``api_url`` and
``webhook_api_url`` (Haravan's hosts below unless the operator points them at
the simulator). A connection's settings hold ``org_id`` and may set
``legacy_hmac_sha1``; they never name a host the hub calls. Its secrets hold
``access_token`` and, for a private app, ``webhook_secret``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.haravan.client import HaravanApi
from hub import Connection
from hub import Hub
from hub import connection_secrets
from hub import open_connection
from hub import outside_http

NAME = "haravan"
ACCOUNTS_URL = "https://accounts.haravan.com"
API_URL = "https://apis.haravan.com"
WEBHOOK_API_URL = "https://webhook.haravan.com"
#: Login scopes plus the install scopes (docs.haravan.com access scopes) [V-copy].
DEFAULT_SCOPES = (
    "openid profile email org userinfo grant_service offline_access wh_api "
    "com.read_customers com.read_orders com.write_discounts web.write_script_tags"
)


def app_config(hub: Hub) -> dict[str, Any]:
    return hub.plugin_config(NAME)


def url_for(hub: Hub, name: str, default: str) -> str:
    """Return one of Haravan's hosts: the operator's override or the production default."""
    return (app_config(hub).get(name) or default).rstrip("/")


def webhook_secrets(hub: Hub, connection: Connection) -> list[str]:
    stored = connection_secrets(hub, connection)
    config = app_config(hub)
    keys = (stored.get("webhook_secret"), config.get("client_secret"))
    return [k for k in keys if k]


@dataclass
class OpenStore:
    connection: Connection
    api: HaravanApi
    webhook_api: HaravanApi

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.connection.settings or {})


def open_store(hub: Hub, connection_id: int) -> OpenStore | None:
    """Return API clients for an active connection, or None when calls must stop."""
    opened = open_connection(hub, NAME, connection_id)
    if opened is None:
        return None
    connection, token = opened.connection, opened.secrets["access_token"]
    http = outside_http(hub)
    return OpenStore(
        connection=connection,
        api=HaravanApi(url_for(hub, "api_url", API_URL), token, http=http),
        webhook_api=HaravanApi(url_for(hub, "webhook_api_url", WEBHOOK_API_URL), token, http=http),
    )
