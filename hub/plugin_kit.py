"""What ``hub.testing`` gives plugin authors beyond an app: a live hub, factories, waiting.

``hub.testing`` re-exports everything here, and pytest finds the fixtures
through it: import from ``hub.testing``, not from this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from flask import Flask

from hub.core import Hub
from hub.db import utcnow
from hub.factories import Factories
from hub.simulators import LoopbackServer


@pytest.fixture
def make(hub, merchant) -> Factories:
    """Factories for the test's data, for ``merchant`` unless told another merchant id."""
    return Factories(hub, merchant.id)


class LiveHub(LoopbackServer):
    """A test's app served over HTTP on a free loopback port, for outside services to call.

    Starting it sets ``HUB_PUBLIC_URL`` to its address: the URLs the hub hands out
    (gateway callbacks, store webhooks, one-time links) are made when they are
    needed, so setting it after the app was built is in time.
    """

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.start()
        app.config["HUB_PUBLIC_URL"] = self.url
        app.extensions["hub"].config["HUB_PUBLIC_URL"] = self.url

    @property
    def base_url(self) -> str:
        return self.url

    def close(self) -> None:
        self.stop()


@pytest.fixture
def hub_server(app) -> Iterator[LiveHub]:
    """The test's app on a free loopback port, ``HUB_PUBLIC_URL`` set to it (``.base_url``)."""
    server = LiveHub(app)
    yield server
    server.close()


def release_due_messages(hub: Hub, *, now: datetime | None = None) -> int:
    """Send the messages held for a retry whose time has come by ``now``; answer how many.

    In production the hub's schedule does this every minute, leaving a due
    message a short grace for the job already scheduled for it; a test moves
    past a held message's ``due_at`` and calls this, which counts the grace
    as passed.
    """
    from hub.messaging.delivery import SWEEP_GRACE
    from hub.messaging.delivery import release_due

    return release_due(hub, now=(now or utcnow()) + SWEEP_GRACE)


def settle_jobs(hub: Hub) -> None:
    """Wait for the work this process accepted in the background to be queued.

    A webhook delivery is answered first and its drain requested by a thread
    right after; without Redis (the default in tests) the queued work runs at
    once, so when this returns the delivery has been processed.
    """
    if not hub.jobs.settle():
        raise TimeoutError("work accepted by this process was not enqueued in time")
