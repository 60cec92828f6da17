"""A per-member cache of widget answers, dropped on every change to the member.

Redis when configured (shared by every web process); otherwise a small
in-process map with a short lifetime, for the single-process embedded default.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from hub.core import Hub

TTL_SECONDS = 60


class WidgetCache:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._local: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def _key(self, merchant_id: int, member_id: int) -> str:
        return f"{self.hub.jobs.prefix}:widget:{merchant_id}:{member_id}"

    def get(self, merchant_id: int, member_id: int, locale: str) -> dict[str, Any] | None:
        key = self._key(merchant_id, member_id)
        if self.hub.jobs.is_inline:
            with self._lock:
                hit = self._local.get(f"{key}:{locale}")
            if hit is None or hit[0] < time.monotonic():
                return None
            return json.loads(hit[1])
        try:
            raw = self.hub.jobs.redis.hget(key, locale)
        except Exception:
            return None  # a cache that cannot be reached is a miss, never an error
        return json.loads(raw) if raw else None

    def put(self, merchant_id: int, member_id: int, locale: str, value: dict[str, Any]) -> None:
        key = self._key(merchant_id, member_id)
        raw = json.dumps(value, separators=(",", ":"), default=str)
        if self.hub.jobs.is_inline:
            with self._lock:
                if len(self._local) > 10_000:
                    self._local.clear()
                self._local[f"{key}:{locale}"] = (time.monotonic() + TTL_SECONDS, raw)
            return
        with contextlib.suppress(Exception), self.hub.jobs.redis.pipeline() as pipe:
            pipe.hset(key, locale, raw)
            pipe.expire(key, TTL_SECONDS)
            pipe.execute()

    def drop(self, merchant_id: int, member_id: int) -> None:
        key = self._key(merchant_id, member_id)
        if self.hub.jobs.is_inline:
            with self._lock:
                for name in [k for k in self._local if k.startswith(f"{key}:")]:
                    del self._local[name]
            return
        with contextlib.suppress(Exception):
            self.hub.jobs.redis.delete(key)
