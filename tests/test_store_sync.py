"""The toolkit's backfill loop and page apply, driven by a store whose pages the test
lays out: resuming at the stored cursor, stopping when the connection stops."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub import Connection
from hub import Customer
from hub import Member
from hub import StoreBackfill
from hub import StorePage
from hub import apply_pages
from hub import run_backfill
from hub import walk_pages


class PaperShop:
    """Two customers a page, page numbers as cursor; closes after ``open_for`` opens."""

    def __init__(self, hub: Any, connection_id: int, customers: int, orders: int = 0) -> None:
        self.hub, self.connection_id = hub, connection_id
        self.items = {"customers": customers, "orders": orders}
        self.open_for: int | None = None
        self.fetched: list[tuple[str, int]] = []

    def open(self, hub: Any, connection_id: int) -> Any:
        if self.open_for is not None:
            if self.open_for == 0:
                return None
            self.open_for -= 1
        with hub.db.session() as session:
            return session.get(Connection, connection_id)

    def fetch(self, store: Any, phase: str, page: int, page_size: int) -> StorePage:
        self.fetched.append((phase, page))
        first = (page - 1) * page_size
        numbers = range(first, min(first + page_size, self.items[phase]))
        records = [Customer(external_id=str(n), email=f"p{n}@example.vn") for n in numbers]
        if phase == "orders":
            records = []
        full = len(numbers) == page_size
        return StorePage(records, len(numbers), page + 1 if full else None)

    def how(self) -> StoreBackfill:
        return StoreBackfill(self.open, self.fetch, cursor_key="page", first_cursor=1)


def make_connection(hub: Any, merchant_id: int, status: str = "active") -> int:
    with hub.db.transaction() as session:
        connection = Connection(
            merchant_id=merchant_id, connector="custom", status=status, settings={}
        )
        session.add(connection)
        session.flush()
        return connection.id


def emails(hub: Any) -> set[str]:
    with hub.db.session() as session:
        return set(session.scalars(select(Member.email)))


def test_a_backfill_stopped_after_a_page_resumes_at_the_next_page(app, hub, merchant):
    connection_id = make_connection(hub, merchant.id)
    shop = PaperShop(hub, connection_id, customers=5, orders=1)
    counted: list[int] = []

    with app.app_context():
        first = run_backfill(hub, connection_id, shop.how(), page_size=2, max_pages=1)
        last = run_backfill(hub, connection_id, shop.how(), page_size=2, progress=counted.append)

    assert (first["phase"], first["page"], first["done"]) == ("customers", 2, 2)
    assert (last["phase"], last["page"], last["done"]) == ("done", 1, 6)
    assert shop.fetched == [("customers", 1), ("customers", 2), ("customers", 3), ("orders", 1)]
    assert counted == [2, 1, 1]
    assert emails(hub) == {f"p{n}@example.vn" for n in range(5)}


def test_restart_starts_over_from_the_first_page(app, hub, merchant):
    connection_id = make_connection(hub, merchant.id)
    shop = PaperShop(hub, connection_id, customers=1)

    with app.app_context():
        run_backfill(hub, connection_id, shop.how(), page_size=2)
        again = run_backfill(hub, connection_id, shop.how(), page_size=2, restart=True)

    assert again["phase"] == "done"
    assert shop.fetched == [("customers", 1), ("orders", 1)] * 2


def test_a_backfill_whose_store_closes_says_stopped_and_keeps_its_cursor(app, hub, merchant):
    connection_id = make_connection(hub, merchant.id)
    shop = PaperShop(hub, connection_id, customers=6)
    shop.open_for = 1

    with app.app_context():
        state = run_backfill(hub, connection_id, shop.how(), page_size=2)
    with hub.db.session() as session:
        stored = session.get(Connection, connection_id).settings["backfill"]

    assert state == {"phase": "stopped"}
    assert (stored["phase"], stored["page"], stored["done"]) == ("customers", 2, 2)


def test_apply_pages_stops_fetching_once_the_connection_is_not_active(app, hub, merchant):
    connection_id = make_connection(hub, merchant.id)
    fetched: list[int] = []

    def fetch(page: int) -> StorePage:
        fetched.append(page)
        if page == 2:
            with hub.db.transaction() as session:
                session.get(Connection, connection_id).status = "disabled"
        records = [Customer(external_id=f"a{page}", email=f"a{page}@example.vn")]
        return StorePage(records, 1, page + 1)

    with app.app_context():
        seen = apply_pages(hub, connection_id, walk_pages(fetch, first=1))

    assert seen == 1
    assert fetched == [1, 2]
    assert emails(hub) == {"a1@example.vn"}


def test_walk_pages_follows_next_cursors_until_a_page_has_none():
    pages = {None: StorePage([], 2, "b"), "b": StorePage([], 1, None)}

    walked = list(walk_pages(pages.__getitem__))

    assert [page.count for page in walked] == [2, 1]
