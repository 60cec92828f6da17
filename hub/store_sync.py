"""The resumable import of a store's history, and the page-by-page apply a reconciliation
does: one loop for every store connector, which supplies how to open its store and how to
fetch and map one page.

A backfill walks the phases ``customers`` then ``orders``; after each page the page's
records and the cursor reached are stored in one transaction (in the connection's
``settings["backfill"]``), so a run stopped at any point resumes at the first page whose
records were not stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hub.core import Hub
from hub.core import current_hub
from hub.db import utcnow
from hub.merchants.connections import active_connection_ids
from hub.models import Connection
from hub.records import apply_record

log = logging.getLogger(__name__)

PHASES = ("customers", "orders", "done")


@dataclass(frozen=True)
class StorePage:
    """One page fetched from a store: the records to apply, how many platform items it
    held (for the progress bar) and the cursor of the next page, ``None`` after the last."""

    records: list[Any]
    count: int
    next: Any = None


#: ``fetch(store, phase, cursor, page_size)``: the page of ``phase`` at ``cursor``.
FetchPage = Callable[[Any, str, Any, int], StorePage]


@dataclass(frozen=True)
class StoreBackfill:
    """What a store connector supplies to the backfill loop.

    ``open_store(hub, connection_id)`` answers an open store with a ``settings`` mapping,
    or ``None`` when the connection must make no more calls; ``cursor_key`` names the
    cursor in the stored state and ``first_cursor`` is its value at a phase's start.
    """

    open_store: Callable[[Hub, int], Any]
    fetch: FetchPage
    cursor_key: str = "cursor"
    first_cursor: Any = None

    def fresh(self) -> dict[str, Any]:
        return {"phase": PHASES[0], self.cursor_key: self.first_cursor, "done": 0}


def run_backfill(
    hub: Hub,
    connection_id: int,
    how: StoreBackfill,
    *,
    progress: Callable[[int], Any] | None = None,
    restart: bool = False,
    page_size: int,
    max_pages: int | None = None,
) -> dict[str, Any]:
    """Import the store's customers, then its orders; answer the state reached.

    ``progress(n)`` is called with the number of items of each page stored; ``max_pages``
    stops early (the state says where); ``restart`` starts over. A connection that stops
    being active ends the run with ``{"phase": "stopped"}``.
    """
    if restart:
        save_page(hub, connection_id, how.fresh(), [])
    pages = 0
    while True:
        store = how.open_store(hub, connection_id)
        if store is None:
            return {"phase": "stopped"}
        state = {**how.fresh(), **(store.settings.get("backfill") or {})}
        if state["phase"] == "done" or (max_pages is not None and pages >= max_pages):
            return state
        page = how.fetch(store, state["phase"], state[how.cursor_key], page_size)
        done = state["done"] + page.count
        if page.next is not None:
            state = {**state, how.cursor_key: page.next, "done": done}
        else:
            phase = PHASES[PHASES.index(state["phase"]) + 1]
            state = {"phase": phase, how.cursor_key: how.first_cursor, "done": done}
        save_page(hub, connection_id, state, page.records)
        pages += 1
        if progress is not None:
            progress(page.count)


def save_page(hub: Hub, connection_id: int, state: dict[str, Any], records: list[Any]) -> None:
    """Apply one page's records and store the backfill state reached, in one transaction."""
    with hub.db.transaction() as session:
        connection = session.get(Connection, connection_id, with_for_update=True)
        for record in records:
            apply_record(hub, session, connection, record)
        connection.settings = {
            **(connection.settings or {}),
            "backfill": {**state, "updated_at": utcnow().isoformat()},
        }


def apply_pages(hub: Hub, connection_id: int, pages: Iterable[StorePage]) -> int:
    """Apply each page's records in a transaction of its own while the connection is
    active; answer how many items were applied. Pages are fetched lazily, so a connection
    that stops being active stops the fetching too."""
    seen = 0
    for page in pages:
        with hub.db.transaction() as session:
            connection = session.get(Connection, connection_id)
            if connection is None or connection.status != "active":
                break
            for record in page.records:
                apply_record(hub, session, connection, record)
        seen += page.count
    return seen


def walk_pages(fetch: Callable[[Any], StorePage], first: Any = None) -> Iterator[StorePage]:
    """The pages ``fetch(cursor)`` answers from ``first`` on, each fetched when asked for,
    until one has no next cursor."""
    cursor = first
    while True:
        page = fetch(cursor)
        yield page
        if page.next is None:
            return
        cursor = page.next


#: ``updated(store, cursor, page_size, since)``: the page at ``cursor`` of the orders
#: updated at ``since`` (``YYYY-MM-DDTHH:MM:SSZ``, UTC) or later.
FetchUpdated = Callable[[Any, Any, int, str], StorePage]


@dataclass(frozen=True)
class StoreSync:
    """A store connector's backfill and reconciliation jobs, built on its ``StoreBackfill``.

    ``jobs`` is the module the connector binds the jobs in (``backfill_job``,
    ``reconcile_connection``), so the queue can name them; ``resubscribe(hub, store)``
    restores missing webhook subscriptions and answers what it did, as a dict merged into
    a reconciliation's answer.
    """

    name: str
    jobs: str
    how: StoreBackfill
    updated: FetchUpdated
    resubscribe: Callable[[Hub, Any], dict[str, Any]]
    page_size: int = 50
    window: timedelta = timedelta(hours=48)

    def backfill(
        self,
        hub: Hub,
        connection_id: int,
        *,
        progress: Callable[[int], Any] | None = None,
        restart: bool = False,
        page_size: int | None = None,
        max_pages: int | None = None,
    ) -> dict[str, Any]:
        """Import the store's customers, then its orders; answer the state reached."""
        return run_backfill(
            hub,
            connection_id,
            self.how,
            progress=progress,
            restart=restart,
            page_size=page_size or self.page_size,
            max_pages=max_pages,
        )

    def backfill_job(self, connection_id: int) -> dict[str, Any]:
        """Job: run the backfill to its end (resumes where an earlier run stopped)."""
        return self.backfill(current_hub(), connection_id)

    def reconcile_all(self) -> int:
        """Periodic job: enqueue one reconciliation per active connection of the connector."""
        hub = current_hub()
        with hub.db.session() as session:
            ids = active_connection_ids(session, self.name)
        for connection_id in ids:
            hub.jobs.enqueue(
                f"{self.jobs}.reconcile_connection",
                connection_id,
                job_id=f"{self.name}-reconcile-{connection_id}",
                retry=hub.jobs.default_retry(3),
                meta={"plugin": self.name, "connection_id": connection_id},
            )
        return len(ids)

    def reconcile_connection(
        self, connection_id: int, window_hours: int | None = None
    ) -> dict[str, Any]:
        """Job: restore missing subscriptions and apply the orders updated in the window.

        Orders the webhooks brought already change nothing; a connection that is not
        active answers ``{"skipped": True}`` and calls nothing.
        """
        hub = current_hub()
        store = self.how.open_store(hub, connection_id)
        if store is None:
            return {"skipped": True}
        restored = self.resubscribe(hub, store)
        window = timedelta(hours=window_hours) if window_hours else self.window
        since = (utcnow() - window).strftime("%Y-%m-%dT%H:%M:%SZ")
        pages = walk_pages(
            lambda cursor: self.updated(store, cursor, self.page_size, since),
            first=self.how.first_cursor,
        )
        seen = apply_pages(hub, connection_id, pages)
        log.info(
            "%s connection %s reconciled: %s orders, %s", self.name, connection_id, seen, restored
        )
        return {"orders": seen, **restored}
