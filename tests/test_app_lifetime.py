"""An app a process is done with is freed: nothing the hub registers keeps it alive.

SQLAlchemy keeps session listeners in a class-level registry; a listener that
held its hub kept every app a process ever made, with its engine, caches and
threads (the test processes grew to 2 GB and slowed down as they went).
"""

from __future__ import annotations

import gc
import weakref

from hub.testing import create_test_merchant
from hub.testing import empty_database
from hub.testing import make_app


def _use_and_drop(database_url, tmp_path) -> tuple[weakref.ref, weakref.ref]:
    app = make_app(database_url, instance_path=tmp_path)
    hub = app.extensions["hub"]
    merchant = create_test_merchant(hub)
    headers = {"Authorization": f"Bearer {merchant.api_key}"}
    client = app.test_client()
    # A member (events dispatched after the commit) and their widget panel (a cache to drop).
    member = client.post("/api/v1/members", json={"phone": "0912345678"}, headers=headers)
    assert member.status_code == 201, member.json
    adjust = {"points": 100, "reason": "welcome"}
    path = f"/api/v1/members/{member.json['id']}/adjustments"
    assert client.post(path, json=adjust, headers=headers).status_code < 300
    if not hub.db.is_sqlite:
        empty_database(hub)  # the worker's PostgreSQL database is the next test's
    hub.db.dispose()
    return weakref.ref(app), weakref.ref(hub)


def test_an_app_used_and_dropped_is_freed_with_its_hub(database_url, tmp_path):
    app, hub = _use_and_drop(database_url, tmp_path)
    gc.collect()
    assert app() is None
    assert hub() is None
