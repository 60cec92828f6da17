"""Referral settlement with a large backlog still inside its refund window, beside none.

    .venv/bin/python -m bench.referrals [--backlog 100000] [--history 100000] [--due 50]
        [--repeat 3]

On PostgreSQL, a shop's referrals are written by ``INSERT ... SELECT`` from
``generate_series``: each with its own referrer and friend, and the friend's
paid order. Each round adds ``--due`` referrals whose refund window has ended
and times ``hub.referrals.settlement.settle_referrals``, which rewards them
(both sides, through the ledger). The baseline round runs with no other pending
referral; then ``--backlog`` pending referrals still inside their window are
added and the rounds run again, first as shipped, then with the
``ix_referrals_due`` index dropped. Printed: each median, and its ratio to the
baseline in the same run (target: the backlog costs nothing, a ratio near 1).
Beside each, the settlement's look for due referrals alone, when none is due
(what every ten-minute run pays), and that of the earlier selection, which also
took every pending referral whose order had been refunded since and so read
them all. Then ``--history`` referrals rewarded long ago (paid, never refunded)
are added and the rounds run again: a run reads only stamped rewarded referrals
(``refunded_after_reward``), so the history should cost nothing either; beside
it, the look of the earlier reversal, which joined every rewarded referral to
its order to find refunds.

The database server is the one in HUB_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test); the benchmark creates its own
database there and drops it at the end.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import text

from hub.models import Order
from hub.models import Referral
from hub.referrals.settlement import _refunded
from hub.referrals.settlement import due_pending
from hub.referrals.settlement import refunded_after_reward
from hub.referrals.settlement import settle_referrals
from hub.testing import create_postgres_database
from hub.testing import create_test_merchant
from hub.testing import drop_postgres_database
from hub.testing import make_app
from hub.testing import migrate

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONFIG = {"HUB_LOAD_ENTRYPOINTS": False, "HUB_LOG_LEVEL": "WARNING"}
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)

# Members first..first+2*count-1: referrers then friends; one paid order per friend;
# one pending referral per pair, due at :due.
SEED = [
    """
    INSERT INTO members (merchant_id, code, phone, name, search_name, tags, attributes,
                         points_balance, total_spent, status, created_at, updated_at)
    SELECT :merchant, 'R' || n, '+849' || (10000000 + n), 'Member ' || n, 'member ' || n, '[]',
           '{}', 0, 0, 'active', now(), now()
    FROM generate_series(:first, :first + 2 * :count - 1) AS n
    """,
    """
    INSERT INTO orders (merchant_id, source, external_id, member_id, currency, subtotal,
                        total_discounts, shipping, tax, total, discount_codes,
                        financial_status, customer, placed_at, paid_at, created_at, updated_at)
    SELECT :merchant, 'api:bench', 'B' || m.code, m.id, 'VND', 500000, 0, 0, 0, 500000, '[]',
           'paid', '{}', :paid, :paid, now(), now()
    FROM members m WHERE m.merchant_id = :merchant AND m.code IN (
        SELECT 'R' || n FROM generate_series(:first + :count, :first + 2 * :count - 1) AS n)
    """,
    """
    INSERT INTO referrals (merchant_id, referrer_id, friend_id, code, status, order_id, due_at,
                           rewards, created_at, updated_at)
    SELECT :merchant, r.id, f.id, 'CODE' || n, :status, o.id, :due, '{}', now(), now()
    FROM generate_series(:first, :first + :count - 1) AS n
    JOIN members r ON r.merchant_id = :merchant AND r.code = 'R' || n
    JOIN members f ON f.merchant_id = :merchant AND f.code = 'R' || (n + :count)
    JOIN orders o ON o.merchant_id = :merchant AND o.external_id = 'BR' || (n + :count)
    """,
]


class Shop:
    """Adds pending referrals to one merchant, each batch on members of its own."""

    def __init__(self, hub, merchant_id: int) -> None:
        self.hub, self.merchant_id = hub, merchant_id
        self.next_member = itertools.count(1, 1_000_000)

    def add(self, count: int, *, due: datetime, status: str = "pending") -> None:
        values = {
            "status": status,
            "merchant": self.merchant_id,
            "first": next(self.next_member),
            "count": count,
            "paid": due - timedelta(days=14),
            "due": due,
        }
        with self.hub.db.engine.begin() as connection:
            for statement in SEED:
                connection.execute(text(statement), values)
            connection.exec_driver_sql("ANALYZE members; ANALYZE orders; ANALYZE referrals")


def rounds(hub, shop: Shop, due: int, repeat: int) -> list[float]:
    """Seconds each round took to settle ``due`` referrals past their window."""
    figures = []
    for _ in range(repeat):
        shop.add(due, due=NOW - timedelta(hours=1))
        started = time.perf_counter()
        moved = settle_referrals(hub, now=NOW)
        figures.append(time.perf_counter() - started)
        assert moved["rewarded"] == due, moved
    return figures


def earlier_selection(now: datetime):
    """The selection before ``due_pending``: due, or refunded whatever the due date."""
    return (
        select(Referral, _refunded(Referral.order_id))
        .join(Order, Order.id == Referral.order_id)
        .where(
            Referral.status == "pending", or_(Referral.due_at <= now, _refunded(Referral.order_id))
        )
        .order_by(Referral.id)
        .limit(500)
    )


def earlier_reversal():
    """The reversal's selection before the order path stamped refunds: every rewarded one."""
    return (
        select(Referral)
        .join(Order, Order.id == Referral.order_id)
        .where(Referral.status == "rewarded", _refunded(Referral.order_id))
        .order_by(Referral.id)
        .limit(500)
    )


def look(hub, statement, repeat: int = 21) -> float:
    """Median seconds the statement takes when nothing is due."""
    figures = []
    with hub.db.session() as session:
        session.execute(statement).all()  # plans and caches once, as a long-lived worker has
        for _ in range(repeat):
            started = time.perf_counter()
            assert session.execute(statement).all() == []
            figures.append(time.perf_counter() - started)
    return statistics.median(figures)


def report(label: str, settle: float, looked: float, base: tuple[float, float]) -> None:
    print(f"{label:<38} settle {settle * 1000:8.1f} ms (ratio {settle / base[0]:5.2f})"
          f"   look {looked * 1000:7.2f} ms (ratio {looked / base[1]:6.2f})")  # fmt: skip


def history_rounds(hub, shop: Shop, history: int, due: int, repeat: int, base) -> None:
    """Rounds with ``history`` old rewarded referrals; the reversal's look beside the earlier."""
    started = time.perf_counter()
    shop.add(history, due=NOW - timedelta(days=400), status="rewarded")
    print(f"seeded {history:,} referrals rewarded long ago in "
          f"{time.perf_counter() - started:.1f}s")  # fmt: skip
    settled = statistics.median(rounds(hub, shop, due, repeat))
    reversal = look(hub, refunded_after_reward())
    report(f"{due} due, {history:,} rewarded before", settled, reversal, (base[0], base[2]))
    earlier = look(hub, earlier_reversal())
    print(f"{'  the earlier reversal selection':<38} {'':>27}   look "
          f"{earlier * 1000:7.2f} ms (ratio {earlier / base[2]:6.2f})")  # fmt: skip


def run(backlog: int, history: int, due: int, repeat: int) -> None:
    admin_url = os.environ.get("HUB_BENCH_DATABASE_URL", DEFAULT_URL)
    name = f"hub_bench_referrals_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(admin_url, name)
    try:
        migrate(url)
        app = make_app(url, config=CONFIG)
        hub = app.extensions["hub"]
        merchant = create_test_merchant(hub, "Bench shop")
        shop = Shop(hub, merchant.id)
        rounds(hub, shop, due, 1)  # the first settlement pays for what a process loads once
        base = (
            statistics.median(rounds(hub, shop, due, repeat)),
            look(hub, due_pending(NOW)),
            look(hub, refunded_after_reward()),
        )
        report(f"{due} due, no backlog (baseline)", base[0], base[1], base)
        print(f"{'  the reversal look (baseline)':<38} {'':>27}   look {base[2] * 1000:7.2f} ms")
        started = time.perf_counter()
        shop.add(backlog, due=NOW + timedelta(days=7))
        print(f"seeded {backlog:,} pending referrals inside their window in "
              f"{time.perf_counter() - started:.1f}s")  # fmt: skip
        settled = statistics.median(rounds(hub, shop, due, repeat))
        report(f"{due} due, {backlog:,} waiting", settled, look(hub, due_pending(NOW)), base)
        earlier = look(hub, earlier_selection(NOW))
        print(f"{'  the earlier selection':<38} {'':>27}   look "
              f"{earlier * 1000:7.2f} ms (ratio {earlier / base[1]:6.2f})")  # fmt: skip
        history_rounds(hub, shop, history, due, repeat, base)
        with hub.db.engine.begin() as connection:
            connection.exec_driver_sql("DROP INDEX ix_referrals_due")
        settled = statistics.median(rounds(hub, shop, due, repeat))
        report("  the same without ix_referrals_due", settled, look(hub, due_pending(NOW)), base)
        hub.db.dispose()
    finally:
        drop_postgres_database(admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run(args.backlog, args.history, args.due, args.repeat)


if __name__ == "__main__":
    main()
