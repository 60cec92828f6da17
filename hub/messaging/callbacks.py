"""The URLs gateways call back on, each carrying a token only the hub can make.

eSMS and SpeedSMS sign nothing, so the token in the query string is all that
tells their receipts from forgeries; Twilio and Zalo sign too, and the
connector checks that on top. The token is an HMAC of the connection id with
the hub's secret key: nothing to store, nothing to rotate by hand.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.models import Connection

ENDPOINTS = ("receipts", "inbound")


def callback_token(hub: Hub, connection_id: int) -> str:
    key = hub.config["HUB_SECRET_KEY"].encode()
    digest = hmac.new(key, f"messaging-callback:{connection_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


def check_token(hub: Hub, connection_id: int, presented: str | None) -> bool:
    return hmac.compare_digest(callback_token(hub, connection_id), presented or "")


def public_base_url(hub: Hub) -> str | None:
    """``HUB_PUBLIC_URL`` without its trailing slash, or None when it is not set."""
    base = hub.config.get("HUB_PUBLIC_URL")
    return base.rstrip("/") if base else None


def callback_url(hub: Hub, connection: Connection, endpoint: str = "receipts") -> str | None:
    """Return the URL a gateway reports to for this connection, or None without a public URL."""
    base = public_base_url(hub)
    if base is None:
        return None
    token = callback_token(hub, connection.id)
    return f"{base}/messaging/{connection.connector}/{connection.id}/{endpoint}?token={token}"
