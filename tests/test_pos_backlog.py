"""A POS that was offline sends its backlog over real HTTP: late, twice, and all at once.

The hub runs under a real WSGI server on 127.0.0.1; the till calls it with
``requests``. Run on SQLite by default, on PostgreSQL with HUB_TEST_DATABASE_URL.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from browser_support import ServerThread
from sqlalchemy import select

from connectors.pos.testing import open_counter
from hub.models import Member
from hub.models import Order
from hub.models import PointEntry
from hub.points import ledger


@pytest.fixture
def live(app):
    server = ServerThread(app)
    yield server
    server.stop()


@pytest.fixture
def till(client, merchant, live):
    return open_counter(client, merchant.headers, location="Quầy Bến Thành").over_http(live.url)


def backlog(member_code, *, count=24, days=3):
    """What a till queued while its internet was down: receipts over the last few days."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days)
    sales = []
    for n in range(count):
        sale = {
            "receipt": f"HD{n:05d}",
            "sold_at": (start + timedelta(hours=3 * n)).isoformat(),
            "total": str(100_000 + 10_000 * n),
            "lines": [{"sku": f"SP{n}", "title": "Bánh mì", "quantity": 1, "price": "1"}],
        }
        if n % 3 != 2:  # every third customer did not give a member code
            sale["member_code"] = member_code
        sales.append(sale)
    return sales


def send_all(till, sales, *, threads=3):
    """Send every sale from several threads at once; return (receipt, status) of each send."""
    results, lock = [], threading.Lock()
    chunks = [sales[i::threads] for i in range(threads)]
    start = threading.Barrier(threads)

    def run(chunk):
        start.wait()
        for sale in chunk:
            answer = till.post("/pos/v1/sales", json=sale)
            with lock:
                results.append((sale["receipt"], answer.status_code))

    workers = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


def ledger_of(hub, member_id):
    with hub.db.session() as session:
        member = session.get(Member, member_id)
        rows = session.scalars(select(PointEntry).where(PointEntry.member_id == member_id))
        keyed = sorted((e.key, e.points) for e in rows)
        return keyed, member.points_balance, ledger.balance_from_entries(session, member_id)


def test_a_backlog_sent_late_twice_and_at_once_is_recorded_once(hub, till, member):
    sales = backlog(member["code"])
    twice = sales + sales
    random.Random(7).shuffle(twice)

    results = send_all(till, twice)

    statuses = Counter(status for _, status in results)
    assert statuses == {201: len(sales), 200: len(sales)}, results
    created = Counter(receipt for receipt, status in results if status == 201)
    assert set(created.values()) == {1}
    with hub.db.session() as session:
        orders = {o.external_id: o for o in session.scalars(select(Order))}
    assert sorted(orders) == sorted(s["receipt"] for s in sales)
    for sale in sales:
        assert orders[sale["receipt"]].placed_at == datetime.fromisoformat(sale["sold_at"])
    entries, balance, from_entries = ledger_of(hub, member["id"])
    earned = [s for s in sales if "member_code" in s]
    assert len(entries) == len(earned)
    assert balance == from_entries == sum(int(s["total"]) // 1000 for s in earned)


def test_a_backlog_sent_again_the_next_day_changes_nothing(hub, till, member):
    sales = backlog(member["code"], count=9)
    send_all(till, sales)
    before = ledger_of(hub, member["id"])

    again = send_all(till, list(reversed(sales)))

    assert {status for _, status in again} == {200}
    assert ledger_of(hub, member["id"]) == before


def test_late_points_are_written_at_the_time_of_sale(api, hub, till, member):
    api.put("/api/v1/program", json={"expiry": {"policy": "days", "days": 3}})
    sales = backlog(member["code"], count=6, days=3)  # sold from 3 days to 2.4 days ago

    send_all(till, sales, threads=2)

    with hub.db.session() as session:
        created = sorted(
            e.created_at
            for e in session.scalars(select(PointEntry).where(PointEntry.kind == "earn"))
        )
    sold = sorted(datetime.fromisoformat(s["sold_at"]) for s in sales if "member_code" in s)
    assert created == sold
    card = till.get("/pos/v1/members", params={"q": member["code"]}).json["member"]
    still_live = [
        s for s in sales if "member_code" in s
        and datetime.fromisoformat(s["sold_at"]) + timedelta(days=3) > datetime.now(UTC)
    ]  # fmt: skip
    assert card["points"]["available"] == sum(int(s["total"]) // 1000 for s in still_live)
    assert 0 < len(still_live) < len([s for s in sales if "member_code" in s])


def test_voids_and_refunds_in_a_backlog_apply_once_each(hub, till, member):
    sales = backlog(member["code"], count=4)
    send_all(till, sales, threads=2)

    for _ in range(2):
        assert till.post("/pos/v1/sales/HD00000/void", json={}).status_code == 200
        refund = {"refund_id": "TH-1", "amount": "55000"}
        assert till.post("/pos/v1/sales/HD00001/refunds", json=refund).status_code in (200, 201)

    entries, balance, from_entries = ledger_of(hub, member["id"])
    reversals = [points for key, points in entries if points < 0]
    assert sorted(reversals) == [-100, -55]
    assert balance == from_entries == 100 + 110 + 130 - 100 - 55
