"""Refresh a connection's credentials once, however many workers find them stale at once.

Zalo's refresh tokens are single-use: two workers refreshing with the same
token at the same moment leave one of them with an error and, worse, may
leave the stored pair out of step with what Zalo issued. So refreshes are
serialised per connection: under a Redis lock when Redis is configured
(workers on many machines), and under the connection row's lock otherwise
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write lock, which every
write transaction takes at ``BEGIN IMMEDIATE``). Whoever gets the lock
second reads the fresh secrets and does not refresh again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from hub.errors import RetryLater
from hub.models import Connection

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger(__name__)

#: How long a refresh may hold the lock; longer than any refresh call's timeout.
LOCK_SECONDS = 60
#: How long a worker waits for another's refresh before trying again later.
WAIT_SECONDS = 30

Secrets = dict[str, Any]


def refresh_connection_secrets(
    hub: Hub,
    connection_id: int,
    *,
    needs_refresh: Callable[[Secrets], bool],
    refresh: Callable[[Secrets], Secrets],
) -> Secrets:
    """Return the connection's secrets, refreshed first if ``needs_refresh`` says so.

    ``needs_refresh(secrets)`` is asked again under the lock, with the stored
    secrets as they are then: answer False when another worker has already
    refreshed (the token differs from the one that failed, or is not
    expired). ``refresh(secrets)`` calls the platform and returns the values
    to change (new token pair, expiry); they are stored, encrypted, before
    the lock is released. Exceptions from ``refresh`` pass through and
    nothing is stored.
    :raise RetryLater: the lock could not be had in time.
    """
    if hub.jobs.is_inline:
        return _refresh_under_row_lock(hub, connection_id, needs_refresh, refresh)
    return _refresh_under_redis_lock(hub, connection_id, needs_refresh, refresh)


def _refresh_under_row_lock(
    hub: Hub,
    connection_id: int,
    needs_refresh: Callable[[Secrets], bool],
    refresh: Callable[[Secrets], Secrets],
) -> Secrets:
    with hub.db.transaction() as session:
        connection = session.get(Connection, connection_id, with_for_update=True)
        secrets = hub.secrets.decrypt(connection.secrets_encrypted)
        if not needs_refresh(secrets):
            return secrets
        secrets.update(refresh(dict(secrets)))
        connection.secrets_encrypted = hub.secrets.encrypt(secrets)
        return secrets


def _refresh_under_redis_lock(
    hub: Hub,
    connection_id: int,
    needs_refresh: Callable[[Secrets], bool],
    refresh: Callable[[Secrets], Secrets],
) -> Secrets:
    from redis.exceptions import LockError

    name = f"{hub.jobs.prefix}:lock:connection-secrets:{connection_id}"
    lock = hub.jobs.redis.lock(name, timeout=LOCK_SECONDS, blocking_timeout=WAIT_SECONDS)
    if not lock.acquire():
        raise RetryLater(f"connection {connection_id}: another worker is refreshing its token")
    try:
        secrets = _read(hub, connection_id)
        if not needs_refresh(secrets):
            return secrets
        changes = refresh(dict(secrets))
        with hub.db.transaction() as session:
            connection = session.get(Connection, connection_id, with_for_update=True)
            secrets = hub.secrets.decrypt(connection.secrets_encrypted)
            secrets.update(changes)
            connection.secrets_encrypted = hub.secrets.encrypt(secrets)
        return secrets
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("connection %s: the refresh outlived its lock", connection_id)


def _read(hub: Hub, connection_id: int) -> Secrets:
    with hub.db.session() as session:
        connection = session.get(Connection, connection_id)
        return hub.secrets.decrypt(connection.secrets_encrypted)
