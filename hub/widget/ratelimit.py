"""Fixed-window request limits for the widget API: per visitor and per connection."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.core import Hub


class RateLimiter:
    """Count requests per key and window; Redis when configured, in-process otherwise."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._counts: dict[str, int] = {}
        self._window = 0
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int, window: int = 60) -> bool:
        """Count one request for ``key``; False when it is over ``limit`` in this window."""
        slot = int(time.time()) // window
        name = f"{self.hub.jobs.prefix}:rl:{key}:{slot}"
        if self.hub.jobs.is_inline:
            with self._lock:
                if slot != self._window:
                    self._counts.clear()
                    self._window = slot
                self._counts[name] = self._counts.get(name, 0) + 1
                return self._counts[name] <= limit
        try:
            with self.hub.jobs.redis.pipeline() as pipe:
                pipe.incr(name)
                pipe.expire(name, window + 1)
                count = pipe.execute()[0]
        except Exception:
            return True  # a limiter that cannot count must not take the widget down
        return count <= limit
