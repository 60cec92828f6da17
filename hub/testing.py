"""Test helpers and pytest fixtures for the hub and for plugin authors.

Installed as a pytest plugin (entry point ``pytest11``), so a plugin's own
tests get ``app``, ``client``, ``hub``, ``merchant``, ``api``, ``make`` (the
factories), ``hub_server`` (the app on a free loopback port, ``HUB_PUBLIC_URL``
pointing at it) and ``recorded_events`` without a conftest; ``ServiceSimulator``
is the base of a simulated outside service, ``run_jobs`` works queued jobs and
``ManualClock`` holds time still. Each test gets a fresh app and a
database of its own: a copy of a migrated SQLite file, or, when
``HUB_TEST_DATABASE_URL`` names a PostgreSQL database, a database per test
worker emptied after every test. ``HUB_TEST_REDIS_URL`` is the Redis server
for job tests; every test uses its own key prefix on it.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hub.app import create_app
from hub.core import Hub
from hub.factories import Factories
from hub.factories import TestMerchant
from hub.factories import create_test_merchant
from hub.factories import make_connection
from hub.factories import make_member
from hub.factories import make_order
from hub.factories import order_for
from hub.markers import hookimpl
from hub.plugin_kit import LiveHub
from hub.plugin_kit import hub_server  # noqa: F401 - a fixture of this plugin
from hub.plugin_kit import make  # noqa: F401 - a fixture of this plugin
from hub.plugin_kit import release_due_messages
from hub.plugin_kit import settle_jobs
from hub.simulators import DROP
from hub.simulators import ServiceSimulator
from hub.simulators import SimulatedRequest
from hub.simulators import SimulatedResponse

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

__all__ = [
    "DROP",
    "ApiClient",
    "EventRecorder",
    "Factories",
    "LiveHub",
    "ManualClock",
    "ServiceSimulator",
    "SimulatedRequest",
    "SimulatedResponse",
    "TestMerchant",
    "create_test_merchant",
    "daytime_zone",
    "make_app",
    "make_connection",
    "make_member",
    "make_order",
    "order_for",
    "release_due_messages",
    "run_jobs",
    "settle_jobs",
]


def daytime_zone() -> str:
    """A fixed-offset time zone where it is between 10:00 and 11:00 now (``Etc/GMT-7`` is UTC+7).

    Advertising SMS go out only 07:00-22:00 where the merchant is, by law and with
    no switch. A test (or a benchmark) that sends one "now" and is not about that
    window sets its merchant's ``timezone`` to this, so it passes whatever the hour
    of the run, worker processes included.
    """
    offset = (10 - datetime.now(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def make_app(
    database_url: str,
    *,
    config: dict[str, Any] | None = None,
    plugins: Iterable[Any] = (),
    instance_path: str | Path | None = None,
) -> Flask:
    """Create an app for tests on ``database_url`` (already migrated)."""
    settings = {
        "TESTING": True,
        "HUB_DATABASE_URL": database_url,
        "HUB_SECRET_KEY": "test-secret-key-not-for-production",
        "HUB_REDIS_URL": None,
        # Parallel test workers share one PostgreSQL server: keep each app's pool small.
        "HUB_DB_POOL_SIZE": 4,
        "HUB_DB_MAX_OVERFLOW": 8,
        # Staff passwords hashed at argon2's cheapest cost: tests sign in often.
        "HUB_PASSWORD_HASH_PROFILE": "test",
        **(config or {}),
    }
    return create_app(settings, plugins=plugins, instance_path=instance_path)


def migrate(database_url: str) -> None:
    """Create the schema on an empty database."""
    from hub.migrate import upgrade

    app = make_app(database_url)
    upgrade(app.extensions["hub"])
    app.extensions["hub"].db.dispose()


def empty_database(hub: Hub) -> None:
    """Delete every row of every table, keeping the schema; PostgreSQL's sequences start over.

    On PostgreSQL the deletes and the sequence resets go as one batch of statements
    in one transaction: a test leaves few rows, and deleting them is far cheaper
    than ``TRUNCATE``, which makes every table's storage anew.
    """
    from hub.db import Model

    tables = [t.name for t in reversed(Model.metadata.sorted_tables)]
    with hub.db.engine.begin() as connection:
        if hub.db.is_sqlite:
            for name in tables:
                connection.exec_driver_sql(f'DELETE FROM "{name}"')
            return
        statements = [f'DELETE FROM "{name}"' for name in tables]
        statements.append(
            "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c WHERE c.relkind = 'S'"
        )
        # One round trip: psycopg runs several statements when given no parameters.
        connection.connection.driver_connection.execute("; ".join(statements))


def create_postgres_database(admin_url: str, name: str) -> str:
    """(Re)create database ``name`` on the server of ``admin_url``; return its URL."""
    url = make_url(admin_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, name: str) -> None:
    url = make_url(admin_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


class ApiClient:
    """A test client that sends one merchant's key with every call."""

    def __init__(self, client: FlaskClient, merchant: TestMerchant) -> None:
        self.client = client
        self.merchant = merchant

    def _call(self, method: str, path: str, **kwargs: Any):
        headers = {**self.merchant.headers, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any):
        return self._call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self._call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any):
        return self._call("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any):
        return self._call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self._call("DELETE", path, **kwargs)


@dataclass(eq=False)  # a plugin is hashed by identity (pluggy keeps plugins in sets)
class EventRecorder:
    """A plugin that records every event it sees, for assertions."""

    events: list[Any] = field(default_factory=list)
    __name__: str = "event-recorder"

    @hookimpl
    def track_event(self, event):
        self.events.append(event)

    def types(self) -> list[str]:
        return [e.type for e in self.events]


class ManualClock:
    """A clock that stands still until the test moves it; ``sleep`` moves it at once.

    It answers as the ``time`` module does for ``monotonic()``, ``time()`` and
    ``sleep()``, so a test puts it in place of a module's ``time``
    (``monkeypatch.setattr(module, "time", clock)``): waits then cost nothing
    and what happens in them does not depend on how loaded the machine is.
    ``slept`` lists every wait asked for.
    """

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


# ---------------------------------------------------------------------------
# pytest fixtures
# ---------------------------------------------------------------------------


def _worker_id(request: pytest.FixtureRequest) -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def hub_database(request, tmp_path_factory) -> Iterator[dict[str, str]]:
    """A migrated database for this test worker: a SQLite template, or a PostgreSQL db."""
    admin_url = os.environ.get("HUB_TEST_DATABASE_URL")
    if admin_url and admin_url.startswith("postgresql"):
        name = f"hubtest_{_worker_id(request)}_{uuid.uuid4().hex[:8]}"
        url = create_postgres_database(admin_url, name)
        _commit_without_waiting_for_disk(admin_url, name)
        migrate(url)
        yield {"kind": "postgresql", "url": url}
        drop_postgres_database(admin_url, name)
    else:
        template = tmp_path_factory.mktemp("db") / "template.sqlite3"
        migrate(f"sqlite:///{template}")
        yield {"kind": "sqlite", "template": str(template)}


def _commit_without_waiting_for_disk(admin_url: str, name: str) -> None:
    """A test database's commits do not wait for the write-ahead log to reach the disk.

    What a test checks is unchanged (each commit is still atomic and seen by
    the next transaction); only a crash of the database server could lose the
    last commits, and no test crashes the server.
    """
    url = make_url(admin_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    engine.dispose()


@pytest.fixture
def database_url(hub_database, tmp_path) -> str:
    """A database URL of this test's own."""
    if hub_database["kind"] == "sqlite":
        target = tmp_path / "hub.sqlite3"
        shutil.copy(hub_database["template"], target)
        return f"sqlite:///{target}"
    return hub_database["url"]


@pytest.fixture
def hub_config() -> dict[str, Any]:
    """Override to change settings for the tests of a module."""
    return {}


@pytest.fixture
def hub_plugins() -> list[Any]:
    """Override to register extra plugin objects on the test app."""
    return []


@pytest.fixture
def app(database_url, hub_config, hub_plugins, tmp_path) -> Iterator[Flask]:
    """A fresh hub app on a database of its own; emptied afterwards on PostgreSQL."""
    app = make_app(database_url, config=hub_config, plugins=hub_plugins, instance_path=tmp_path)
    yield app
    hub = app.extensions["hub"]
    if not hub.db.is_sqlite:
        empty_database(hub)
    hub.db.dispose()


@pytest.fixture
def hub(app) -> Hub:
    return app.extensions["hub"]


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def merchant(hub) -> TestMerchant:
    return create_test_merchant(hub, "Cửa hàng Hoa Mai")


@pytest.fixture
def other_merchant(hub) -> TestMerchant:
    return create_test_merchant(hub, "Other shop")


@pytest.fixture
def api(client, merchant) -> ApiClient:
    return ApiClient(client, merchant)


@pytest.fixture
def other_api(client, other_merchant) -> ApiClient:
    return ApiClient(client, other_merchant)


@pytest.fixture
def recorded_events(hub) -> EventRecorder:
    recorder = EventRecorder()
    hub.pm.register(recorder, name="event-recorder")
    return recorder


@pytest.fixture
def redis_url() -> str:
    """The Redis server for job tests; the test fails if it cannot be reached."""
    import redis

    url = os.environ.get("HUB_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is not reachable ({exc}); start it or set HUB_TEST_REDIS_URL")
    return url


@pytest.fixture
def redis_prefix(redis_url) -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    import redis

    prefix = f"t{uuid.uuid4().hex[:12]}"
    yield prefix
    connection = redis.Redis.from_url(redis_url)
    forget_redis_prefix(connection, prefix)
    connection.close()


def forget_redis_prefix(connection: Any, prefix: str) -> None:
    """Delete everything a test under ``prefix`` left in Redis, and only that.

    Besides the keys that carry the prefix, rq keeps some that do not: a job
    enqueued without an id is ``rq:job:<uuid>`` (its queue, the ``origin``
    field, carries the prefix), its result, the set of known queues, the
    workers that served the queues, and the cron registry.
    """
    for key in connection.scan_iter(match=f"*{prefix}*", count=1000):
        connection.delete(key)
    for key in connection.scan_iter(match="rq:job:*", count=1000):
        origin = connection.hget(key, "origin")
        if origin is not None and prefix in origin.decode(errors="replace"):
            job_id = key.decode().removeprefix("rq:job:")
            connection.delete(key, f"rq:results:{job_id}")
    for member in connection.smembers("rq:queues"):
        if prefix in member.decode(errors="replace"):
            connection.srem("rq:queues", member)
    for member in connection.smembers("rq:workers"):
        queues = connection.hget(member, "queues")
        if queues is not None and prefix in queues.decode(errors="replace"):
            connection.delete(member)
            connection.srem("rq:workers", member)
    for member in connection.zrange("rq:cron_jobs", 0, -1):
        if prefix in member.decode(errors="replace"):
            connection.zrem("rq:cron_jobs", member)


@pytest.fixture
def redis_app(database_url, redis_url, redis_prefix, hub_plugins, tmp_path) -> Iterator[Flask]:
    """An app whose jobs go to rq queues on the real Redis, under this test's prefix."""
    config = {"HUB_REDIS_URL": redis_url, "HUB_REDIS_PREFIX": redis_prefix}
    app = make_app(database_url, config=config, plugins=hub_plugins, instance_path=tmp_path)
    yield app
    hub = app.extensions["hub"]
    if not hub.db.is_sqlite:
        empty_database(hub)
    hub.db.dispose()


def run_jobs(hub: Hub, *, queues: list[str] | None = None) -> None:
    """Work every queued job of this hub in-process until the queues are empty.

    First waits for what the process accepted and enqueues from a thread
    (``hub.jobs.settle``), as a delivery's drain.
    """
    from hub.worker import make_worker

    if not hub.jobs.settle():
        raise TimeoutError("work accepted by this process was not enqueued in time")

    worker = make_worker(hub, queues, simple=True)
    # rq's command channel (a pubsub thread) is for stopping a worker from outside; a burst
    # needs none. When the queues run dry before the subscription is confirmed, stopping
    # that thread waits out its 60 s poll: under load, a minute added to a test.
    worker.subscribe = lambda: None  # type: ignore[method-assign]
    worker.work(burst=True, with_scheduler=False)
