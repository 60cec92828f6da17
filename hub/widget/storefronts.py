"""What a web process keeps of each storefront: its connection, secret, limits and guest panel.

Loaded from the database on the first request for a connection, and again
whenever the merchant's stamp moves (any committed change to the merchant, its
connections, program, rewards or tiers bumps it; see ``hub.widget.invalidation``)
or after ``MAX_AGE_SECONDS`` as a safety net.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.merchants.connections import connection_secrets
from hub.models import Connection
from hub.models import Merchant

if TYPE_CHECKING:
    from hub.core import Hub

MAX_AGE_SECONDS = 300
LOCALES = ("vi", "en")


@dataclass(frozen=True)
class Storefront:
    connection: Connection  # detached from its session; read only
    merchant_id: int
    active: bool
    stamp: str
    loaded_at: float
    secret: str | None
    origins: frozenset[str]
    per_visitor: int
    per_connection: int
    locale: str
    heads: dict[str, bytes]  # per locale: the guest panel's JSON up to the member's part

    def allowed_origin(self, origin: str | None) -> str | None:
        return origin if origin and origin.rstrip("/") in self.origins else None

    def head(self, wanted: str) -> bytes:
        wanted = (wanted or "").lower()[:2]
        return self.heads[wanted if wanted in LOCALES else self.locale]


class Storefronts:
    """Per process: connection id to its ``Storefront``."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._known: dict[int, Storefront] = {}
        self._merchants: dict[int, int] = {}  # connection id -> merchant id (never changes)
        self._lock = threading.Lock()

    def cached(self, connection_id: int) -> Storefront | None:
        known = self._known.get(connection_id)
        if known is None or known.loaded_at + MAX_AGE_SECONDS < time.monotonic():
            return None
        return known

    def load(self, connection_id: int) -> Storefront | None:
        """Read the storefront from the database; None when there is no such connection."""
        from hub.widget.state import program_view
        from hub.widget.texts import texts_for

        hub = self.hub
        merchant_id = self._merchants.get(connection_id)
        if merchant_id is None:
            with hub.db.session() as session:
                connection = session.get(Connection, connection_id)
                if connection is None:
                    return None
                merchant_id = connection.merchant_id
        # The stamp is read before the data: a change committed after this read
        # bumps it again, and the next request reloads.
        stamp = hub.widget_cache.glance(merchant_id, []).stamp
        with hub.db.session() as session:
            connection = session.get(Connection, connection_id)
            if connection is None:
                return None
            merchant = session.get(Merchant, merchant_id)
            active = connection.status == "active"
            guest = program_view(hub, session, merchant, connection) if active else {}
            session.expunge(connection)
        settings = connection.settings or {}
        limits = settings.get("widget_rate_limits") or {}
        locale = merchant.locale if merchant.locale in LOCALES else "vi"
        heads = {}
        for name in LOCALES:
            text = json.dumps(
                {**guest, "locale": name, "texts": texts_for(name)},
                separators=(",", ":"),
                ensure_ascii=False,
                default=str,
            )
            heads[name] = text[:-1].encode() + b',"member":'
        storefront = Storefront(
            connection=connection,
            merchant_id=merchant_id,
            active=active,
            stamp=stamp,
            loaded_at=time.monotonic(),
            secret=connection_secrets(hub, connection).get("widget_secret") if active else None,
            origins=frozenset(o.rstrip("/") for o in settings.get("storefront_origins") or []),
            per_visitor=int(limits.get("visitor_per_minute", 120)),
            per_connection=int(limits.get("connection_per_minute", 30000)),
            locale=locale,
            heads=heads,
        )
        with self._lock:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[connection_id] = storefront
            self._merchants[connection_id] = merchant_id
        return storefront
