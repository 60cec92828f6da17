"""What the widget keeps between requests: a repeat visit reads it all in one Redis pipeline.

Three things are kept, in Redis when configured (shared by every web process)
or in this process for the single-process embedded default:

- **A stamp per merchant**, bumped after every committed change to the
  merchant, its connections, program, rewards or tiers. A web process keeps
  each storefront's settings and guest panel in memory and reloads them when
  the stamp moves, so a change shows on the next request.
- **Who a visitor is**: the member a connection's customer id belongs to.
- **Each member's panel**, under a generation number. Every change to the
  member bumps the generation (after the commit); a panel is used only when it
  was built at the current generation. A request that read the database
  before a change and stores its panel after it therefore never serves the
  old figures: its panel carries the old generation and is ignored.

Rate-limit counters (per visitor and per storefront) are counted in the same
pipeline. A cache that cannot be reached is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger(__name__)

TTL_SECONDS = 60  # a panel, unless its builder knows when it changes with time alone
WHO_TTL_SECONDS = 300
GENERATION_TTL_SECONDS = 86_400
LIMIT_WINDOW = 60


@dataclass
class Glance:
    """What one round trip tells about a request."""

    stamp: str
    counts: list[int]
    member_id: int | None = None
    generation: int = 0
    panel: bytes | None = None  # the member's panel as JSON, built at ``generation``
    reachable: bool = True


#: Members' entries (panels and generations) the in-process store keeps at most.
LOCAL_PANELS = 10_000


@dataclass
class _Local:
    """The in-process store: the same data as in Redis, for one process.

    Generations come from one counter for every member, and a member without
    an entry is at ``floor``. When the entries reach ``LOCAL_PANELS`` they are
    all dropped and ``floor`` moves past every generation given so far: a
    panel built from data read before that is still refused, and memory stays
    bounded however many members change (an import of a million rows bumps
    each one).
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    stamps: dict[int, int] = field(default_factory=dict)
    who: dict[str, tuple[float, int]] = field(default_factory=dict)
    panels: dict[str, tuple[float, int, bytes | None]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    window: int = 0
    floor: int = 0
    counter: int = 0

    def generation(self, key: str) -> int:
        entry = self.panels.get(key)
        return self.floor if entry is None else entry[1]

    def make_room(self) -> None:
        """Drop every entry once there are ``LOCAL_PANELS`` of them (the lock is held)."""
        if len(self.panels) >= LOCAL_PANELS:
            self.panels.clear()
            self.who.clear()
            self.counter += 1
            self.floor = self.counter

    def bump(self, key: str) -> None:
        self.make_room()
        self.counter += 1
        self.panels[key] = (0.0, self.counter, None)


# One round trip for a request: the stamp, the counts, who the visitor is and their panel.
# KEYS: the merchant's stamp, the limit counters, then (optionally) the visitor's "who" key.
# ARGV: the counters' lifetime, how many counters, a known member id (or ""), the
# prefix of panel keys. The panel keys are derived here, from the member found
# (a single Redis server, not a cluster, is assumed).
GLANCE_SCRIPT = """
local out = {redis.call('GET', KEYS[1]) or '0'}
local n = tonumber(ARGV[2])
for i = 2, n + 1 do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
  out[#out + 1] = count
end
local member = ARGV[3]
if member == '' and KEYS[n + 2] then member = redis.call('GET', KEYS[n + 2]) end
if member and member ~= '' then
  local key = ARGV[4] .. member
  out[#out + 1] = member
  out[#out + 1] = redis.call('GET', key .. ':g') or '0'
  out[#out + 1] = redis.call('GET', key .. ':p') or ''
end
return out
"""


class WidgetCache:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._local = _Local()
        self._script = None

    # -- keys ---------------------------------------------------------------------------

    def _panel_key(self, merchant_id: int, member_id: int) -> str:
        return f"{self.hub.jobs.prefix}:widget:{merchant_id}:{member_id}"

    def _who_key(self, connection_id: int, customer_id: str) -> str:
        return f"{self.hub.jobs.prefix}:widget:who:{connection_id}:{customer_id}"

    def _stamp_key(self, merchant_id: int) -> str:
        return f"{self.hub.jobs.prefix}:widget:stamp:{merchant_id}"

    def _limit_key(self, key: str, slot: int) -> str:
        return f"{self.hub.jobs.prefix}:rl:{key}:{slot}"

    # -- the request's round trip --------------------------------------------------------

    def glance(
        self,
        merchant_id: int,
        limit_keys: list[str],
        who: tuple[int, str] | None = None,
        member_id: int | None = None,
    ) -> Glance:
        """Read the merchant's stamp, count one request per limit key, find the visitor's panel.

        ``who`` is (connection id, customer id) for a visitor with a valid
        token; ``member_id`` a member already known (a platform vouched for them).
        """
        slot = int(time.time()) // LIMIT_WINDOW
        if self.hub.jobs.is_inline:
            return self._glance_local(merchant_id, limit_keys, who, member_id, slot)
        try:
            return self._glance_redis(merchant_id, limit_keys, who, member_id, slot)
        except Exception as exc:
            log.warning("widget cache unreachable: %s", exc)
            return Glance(stamp="", counts=[0] * len(limit_keys), reachable=False)

    def _glance_redis(self, merchant_id, limit_keys, who, member_id, slot) -> Glance:
        redis = self.hub.jobs.redis
        if self._script is None:
            self._script = redis.register_script(GLANCE_SCRIPT)
        keys = [self._stamp_key(merchant_id), *(self._limit_key(k, slot) for k in limit_keys)]
        if member_id is None and who is not None:
            keys.append(self._who_key(*who))
        answers = self._script(
            keys=keys,
            args=[
                LIMIT_WINDOW + 1,
                len(limit_keys),
                "" if member_id is None else member_id,
                self._panel_key(merchant_id, 0)[:-1],
            ],
            client=redis,
        )
        glance = Glance(stamp=answers[0].decode(), counts=answers[1 : 1 + len(limit_keys)])
        if len(answers) > 1 + len(limit_keys):
            glance.member_id = int(answers[-3])
            glance.generation = int(answers[-2])
            glance.panel = _panel_at(answers[-1], glance.generation)
        return glance

    def _glance_local(self, merchant_id, limit_keys, who, member_id, slot) -> Glance:
        now = time.monotonic()
        local = self._local
        with local.lock:
            if slot != local.window:
                local.counts.clear()
                local.window = slot
            counts = []
            for key in limit_keys:
                local.counts[key] = local.counts.get(key, 0) + 1
                counts.append(local.counts[key])
            glance = Glance(stamp=str(local.stamps.get(merchant_id, 0)), counts=counts)
            if member_id is None and who is not None:
                hit = local.who.get(self._who_key(*who))
                member_id = hit[1] if hit is not None and hit[0] >= now else None
            if member_id is None:
                return glance
            glance.member_id = member_id
            key = self._panel_key(merchant_id, member_id)
            expires, _, panel = local.panels.get(key, (0.0, 0, None))
            glance.generation = local.generation(key)
            glance.panel = panel if expires > now else None
            return glance

    # -- writes -------------------------------------------------------------------------

    def remember(
        self,
        merchant_id: int,
        member_id: int,
        generation: int,
        panel: bytes,
        who: tuple[int, str] | None = None,
        ttl: int = TTL_SECONDS,
    ) -> None:
        """Keep a member's panel, built from data read at ``generation``, for ``ttl`` seconds.

        Also remember who the visitor is.
        """
        key = self._panel_key(merchant_id, member_id)
        if self.hub.jobs.is_inline:
            with self._local.lock:
                self._local.make_room()
                if self._local.generation(key) == generation:
                    self._local.panels[key] = (time.monotonic() + ttl, generation, panel)
                if who is not None:
                    self._local.who[self._who_key(*who)] = (
                        time.monotonic() + WHO_TTL_SECONDS,
                        member_id,
                    )
            return
        with contextlib.suppress(Exception), self.hub.jobs.redis.pipeline() as pipe:
            # The generation inside the value: a stale panel is simply never used.
            pipe.set(f"{key}:p", b"%d|" % generation + panel, ex=ttl)
            if who is not None:
                pipe.set(self._who_key(*who), member_id, ex=WHO_TTL_SECONDS)
            pipe.execute()

    def forget_visitor(self, connection_id: int, customer_id: str) -> None:
        self.invalidate(visitors={(connection_id, customer_id)})

    def drop(self, merchant_id: int, member_id: int) -> None:
        """The member changed: panels built before now are never used again."""
        self.invalidate(members={(merchant_id, member_id)})

    def bump(self, merchant_ids: set[int]) -> None:
        """The merchants' settings changed: every process reloads their storefronts."""
        self.invalidate(merchants=merchant_ids)

    def invalidate(
        self,
        merchants: set[int] = frozenset(),
        members: set[tuple[int, int]] = frozenset(),
        visitors: set[tuple[int, str]] = frozenset(),
    ) -> None:
        """Bump merchants' stamps, members' generations and forget visitors, in one round trip."""
        if self.hub.jobs.is_inline:
            local = self._local
            with local.lock:
                for merchant_id in merchants:
                    local.stamps[merchant_id] = local.stamps.get(merchant_id, 0) + 1
                for merchant_id, member_id in members:
                    local.bump(self._panel_key(merchant_id, member_id))
                for connection_id, customer_id in visitors:
                    local.who.pop(self._who_key(connection_id, customer_id), None)
            return
        try:
            with self.hub.jobs.redis.pipeline() as pipe:
                for merchant_id in merchants:
                    pipe.incr(self._stamp_key(merchant_id))
                for merchant_id, member_id in members:
                    key = self._panel_key(merchant_id, member_id)
                    pipe.incr(f"{key}:g")
                    pipe.expire(f"{key}:g", GENERATION_TTL_SECONDS)
                    pipe.delete(f"{key}:p")
                for connection_id, customer_id in visitors:
                    pipe.delete(self._who_key(connection_id, customer_id))
                pipe.execute()
        except Exception as exc:  # panels expire within TTL_SECONDS anyway
            log.warning("widget cache not invalidated: %s", exc)

    def generation(self, merchant_id: int, member_id: int) -> int:
        """The member's current generation: read it before reading what a panel shows."""
        key = self._panel_key(merchant_id, member_id)
        if self.hub.jobs.is_inline:
            with self._local.lock:
                return self._local.generation(key)
        try:
            return int(self.hub.jobs.redis.get(f"{key}:g") or 0)
        except Exception:
            return -1  # unreachable: a panel built now is never stored as current


def _panel_at(raw: bytes | None, generation: int) -> bytes | None:
    """The panel in ``raw`` if it was built at ``generation``."""
    if not raw:
        return None
    built, _, panel = raw.partition(b"|")
    return panel if built == b"%d" % generation else None
