"""Ledger throughput on PostgreSQL, each figure beside raw SQL doing the same work in the same run.

    .venv/bin/python -m bench.ledger [--orders 6000] [--processes 2] [--batch 1]
                                     [--redemptions 6000] [--threads 8]
                                     [--clients processes|threads|both]
                                     [--rollups on|off|compare]

1. Accruals across many members: paid orders recorded through
   ``hub.orders.batches.record_orders`` (member matched by phone, order and lines
   stored, program looked up, points credited as a lot, total spent, accrual
   row, events, tier check), one transaction per order (or ``--batch`` orders
   per transaction, as a worker draining an inbox would), in ``--processes``
   processes; beside psycopg issuing the same statements (the same reads,
   inserts and updates, events marked dispatched together afterwards, as
   ``hub.events`` does) with no ORM. The merchant has no tiers.
2. Redemptions on one hot member: ``hub.points.ledger.debit(kind="redeem")`` of 1
   point, each in its own transaction, from ``--threads`` clients; beside
   psycopg issuing the same statements (member row lock, lots, entry,
   allocation, lot and balance updates) from as many clients. Clients are
   processes, as web workers are, and threads of one process (which share
   one interpreter lock); both are printed by default.
3. Whole redemptions on the same member: ``hub.rewards.catalog.redeem`` of a reward
   of 1 point without stock count or limit per member, as the REST API, the
   widget and the POS call it (member and reward loaded, a voucher with a
   unique code and the merchant's currency in one INSERT, the debit, whose
   refusal is the check of the points, two events in one INSERT, the voucher
   linked to its entry; events marked dispatched after commit by one
   autocommitted statement), from as many clients; beside psycopg issuing the
   same statements in the same order, its debit written as the raw debit of
   2. is (statement by statement, where the hub's debit is one statement).

``--rollups compare`` measures what keeping the reports' rollups costs the
accruals: the same accrual run without them (``HUB_REPORT_ROLLUPS`` off and
the indexes the rollups read by dropped) and with them, twice each in turn,
printing the ratio of the best runs (target: at least 0.90).

Events are written and marked dispatched as in production; no plugin
``handle_event`` runs (in production those are jobs on other workers), so
only the core's own plugins are loaded. The database server is the one in
HUB_BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test);
the benchmark creates its own database there and drops it at the end.
Targets on a 2-core machine: at least 1,000 accruals/s and 500 hot-member
redemptions/s, each at least half of its raw baseline.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from decimal import Decimal

import psycopg
from sqlalchemy.engine import make_url

from hub.canonical import Customer
from hub.canonical import Order
from hub.canonical import OrderLine
from hub.members.directory import create_member
from hub.merchants.accounts import create_merchant
from hub.models import Member
from hub.models import Reward
from hub.orders.batches import record_order
from hub.orders.batches import record_orders
from hub.points import ledger
from hub.rewards import catalog as rewards
from hub.testing import create_postgres_database
from hub.testing import drop_postgres_database
from hub.testing import make_app
from hub.testing import migrate

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONFIG = {
    "HUB_LOAD_ENTRYPOINTS": False,
    "HUB_DISABLE_PLUGINS": "hub.messaging.plugin",
    "HUB_LOG_LEVEL": "WARNING",
}
PLACED = datetime(2026, 11, 1, 3, 15, tzinfo=UTC)


def phone(n: int) -> str:
    return f"09{10_000_000 + n}"


def e164(n: int) -> str:
    return f"+849{10_000_000 + n}"


def the_order(tag: str, n: int, members: int, lane: int = 0, lanes: int = 1) -> Order:
    """Order ``n``, for a member of the process's own lane (members ``lane``, ``lane + lanes``...).

    Lanes keep two processes' batches from locking the same members in opposite
    orders, as a worker pool sharded by member would.
    """
    who = lane + lanes * random.Random(n).randrange(members // lanes)
    return Order(
        external_id=f"{tag}-{n}",
        currency="VND",
        subtotal=Decimal(450000),
        total=Decimal(450000),
        financial_status="paid",
        placed_at=PLACED,
        paid_at=PLACED,
        lines=(
            OrderLine(quantity=1, price=Decimal(150000), sku="CF-1", title="Cà phê"),
            OrderLine(quantity=2, price=Decimal(150000), sku="TR-2", title="Trà"),
        ),
        customer=Customer(phone=phone(who), name=f"Khách {who}"),
    )


def set_up(url: str, members: int) -> tuple[int, Hot]:
    """A merchant with ``members`` members, a hot member holding a big lot, a reward of 1 point."""
    app = make_app(url, config=CONFIG)
    hub = app.extensions["hub"]
    with hub.db.transaction() as session:
        merchant_id = create_merchant(session, "Bench shop").id
    for start in range(0, members, 500):
        with hub.db.transaction() as session:
            for n in range(start, min(start + 500, members)):
                create_member(session, merchant_id, {"phone": phone(n), "name": f"Khách {n}"})
    with hub.db.transaction() as session:
        hot = create_member(session, merchant_id, {"phone": "0999999999", "name": "Hot"})
        ledger.credit(session, hot, 10**9, kind="adjust", key="bench:hot", rule="adjustment")
        reward = rewards.create_reward(
            session, merchant_id,
            {"name": "Cà phê", "kind": "amount_off", "value": Decimal(10000), "points_cost": 1},
            actor="bench",
        )  # fmt: skip
        hot_ids = Hot(member_id=hot.id, merchant_id=merchant_id, reward_id=reward.id)
    hub.db.dispose()
    return merchant_id, hot_ids


# -- 1. accruals ---------------------------------------------------------------------


def _real_accruals(url, merchant_id, tag, numbers, members, batch, barrier, lane):
    app = make_app(url, config=CONFIG)
    hub = app.extensions["hub"]
    orders = [the_order(tag, n, members, *lane) for n in numbers]
    gc.collect()
    gc.freeze()  # as hub.wsgi and hub worker do once started
    barrier.wait()
    for start in range(0, len(orders), batch):
        with hub.db.transaction() as session:
            if batch == 1:
                record_order(hub, session, merchant_id, orders[start], source="bench")
            else:
                record_orders(hub, session, merchant_id, orders[start : start + batch],
                              source="bench")  # fmt: skip
    barrier.wait()
    hub.db.dispose()


EVENT_SQL = (
    "INSERT INTO events (id, merchant_id, type, data, created_at) VALUES (%s, %s, %s, %s, %s)"
)
PROGRAM_SQL = """
SELECT m.timezone, m.currency, p.version, p.settings, p.created_at
FROM merchants m LEFT JOIN program_versions p ON p.merchant_id = m.id
WHERE m.id = %s
ORDER BY CASE WHEN p.created_at <= %s THEN 0 ELSE 1 END,
         CASE WHEN p.created_at <= %s THEN -p.version ELSE p.version END
LIMIT 1
"""


def _raw_earn(cur, merchant_id: int, member_id: int, order_id: int, order: Order, now) -> str:
    """The earning of one new order in plain SQL; return its event's id."""
    cur.execute(
        "SELECT points_balance, total_spent FROM members WHERE id = %s FOR NO KEY UPDATE",
        (member_id,),
    )
    balance, spent = cur.fetchone()
    cur.execute(PROGRAM_SQL, (merchant_id, order.placed_at, order.placed_at))
    # No lookup of the entry's key: a new order has no accrual row, so it has no entries.
    key = f"order:{order_id}:earn:base"
    points = int(order.total // 1000)
    cur.execute(
        "INSERT INTO point_entries (merchant_id, member_id, kind, points, key, rule, order_id,"
        " note, actor, program_version, data, created_at)"
        " VALUES (%s, %s, 'earn', %s, %s, 'base', %s, %s, 'system', 0, '{}', %s) RETURNING id",
        (merchant_id, member_id, points, key, order_id, "450,000 VND at 1 point", now),
    )
    (entry_id,) = cur.fetchone()
    cur.execute(
        "INSERT INTO point_lots (merchant_id, member_id, entry_id, points, remaining,"
        " available_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (merchant_id, member_id, entry_id, points, points, now, now),
    )
    cur.execute(
        "UPDATE members SET points_balance = %s, total_spent = %s, updated_at = %s WHERE id = %s",
        (balance + points, spent + order.total, now, member_id),
    )
    event = uuid.uuid4().hex
    cur.execute(EVENT_SQL, (event, merchant_id, "points.earned", '{"points": 450}', now))
    cur.execute(
        "INSERT INTO order_accruals (merchant_id, order_id, member_id, program_version, base,"
        " earned, reversed, refunded, spent, cancelled, created_at, updated_at)"
        " VALUES (%s, %s, %s, 0, %s, %s, 0, 0, %s, false, %s, %s)",
        (merchant_id, order_id, member_id, order.total, points, order.total, now, now),
    )
    return event


def _raw_accrual(cur, merchant_id: int, order: Order, now: datetime) -> list[str]:
    """One order's accrual in plain SQL: the statements record_order issues, no ORM."""
    source, total = "api:bench", order.total
    cur.execute(
        "SELECT id FROM orders WHERE merchant_id = %s AND source = %s AND external_id = %s",
        (merchant_id, source, order.external_id),
    )
    cur.execute(
        "SELECT id FROM members WHERE merchant_id = %s AND status = 'active' AND phone = %s",
        (merchant_id, "+84" + order.customer.phone[1:]),
    )
    (member_id,) = cur.fetchone()
    cur.execute(
        "INSERT INTO orders (merchant_id, source, external_id, member_id, currency, subtotal,"
        " total_discounts, shipping, tax, total, discount_codes, financial_status, customer,"
        " placed_at, paid_at, created_at, updated_at)"
        " VALUES (%s, %s, %s, %s, 'VND', %s, 0, 0, 0, %s, '[]', 'paid', %s, %s, %s, %s, %s)"
        " RETURNING id",
        (merchant_id, source, order.external_id, member_id, order.subtotal, total,
         json.dumps(order.customer.to_dict()), order.placed_at, order.paid_at, now, now),
    )  # fmt: skip
    (order_id,) = cur.fetchone()
    cur.executemany(
        "INSERT INTO order_lines (order_id, position, sku, title, quantity, price,"
        " total_discount, collections, gift_card) VALUES (%s, %s, %s, %s, %s, %s, 0, '[]', false)",
        [(order_id, i, line.sku, line.title, line.quantity, line.price)
         for i, line in enumerate(order.lines)],
    )  # fmt: skip
    events = [uuid.uuid4().hex]
    cur.execute(EVENT_SQL, (events[0], merchant_id, "order.received", '{"order_id": 1}', now))
    cur.execute(
        "UPDATE order_refunds SET order_id = %s WHERE merchant_id = %s AND source = %s"
        " AND order_external_id = %s AND order_id IS NULL",
        (order_id, merchant_id, source, order.external_id),
    )
    events.append(_raw_earn(cur, merchant_id, member_id, order_id, order, now))
    # The merchant has no tiers, so the member's tier is not looked up either.
    cur.execute("SELECT id FROM tiers WHERE merchant_id = %s", (merchant_id,))
    return events


ORDER_COLUMNS = (
    "merchant_id, source, external_id, member_id, currency, subtotal, total_discounts, shipping,"
    " tax, total, discount_codes, financial_status, customer, placed_at, paid_at, created_at,"
    " updated_at"
)


def _returned_ids(cur) -> list[int]:
    """The ids an ``executemany(..., returning=True)`` of single-row INSERTs returned."""
    ids = []
    while True:
        ids.append(cur.fetchone()[0])
        if not cur.nextset():
            return ids


def _raw_batch(cur, merchant_id: int, orders: list[Order], now: datetime) -> list[str]:
    """A batch's accrual in plain SQL: the statements record_orders issues, no ORM."""
    source = "api:bench"
    external_ids = [order.external_id for order in orders]
    cur.execute(
        "SELECT external_id FROM orders WHERE merchant_id = %s AND source = %s"
        " AND external_id = ANY(%s)",
        (merchant_id, source, external_ids),
    )
    cur.execute(
        "SELECT order_external_id FROM order_refunds WHERE merchant_id = %s AND source = %s"
        " AND order_external_id = ANY(%s) AND order_id IS NULL",
        (merchant_id, source, external_ids),
    )
    phones = ["+84" + order.customer.phone[1:] for order in orders]
    cur.execute(
        "SELECT * FROM members WHERE merchant_id = %s AND status = 'active' AND phone = ANY(%s)",
        (merchant_id, list(set(phones))),
    )
    columns = [c.name for c in cur.description]
    members = {
        row["phone"]: row for row in (dict(zip(columns, r, strict=True)) for r in cur.fetchall())
    }
    cur.executemany(
        f"INSERT INTO orders ({ORDER_COLUMNS}) VALUES (%s, %s, %s, %s, 'VND', %s, 0, 0, 0, %s,"
        " '[]', 'paid', %s, %s, %s, %s, %s) RETURNING id",
        [(merchant_id, source, order.external_id, members[phone]["id"], order.subtotal,
          order.total, json.dumps(order.customer.to_dict()), order.placed_at, order.paid_at,
          now, now) for order, phone in zip(orders, phones, strict=True)],
        returning=True,
    )  # fmt: skip
    order_ids = _returned_ids(cur)
    cur.executemany(
        "INSERT INTO order_lines (order_id, position, sku, title, quantity, price,"
        " total_discount, collections, gift_card) VALUES (%s, %s, %s, %s, %s, %s, 0, '[]', false)",
        [(order_id, i, line.sku, line.title, line.quantity, line.price)
         for order, order_id in zip(orders, order_ids, strict=True)
         for i, line in enumerate(order.lines)],
    )  # fmt: skip
    events = [uuid.uuid4().hex for _ in orders]
    cur.executemany(
        EVENT_SQL,
        [(e, merchant_id, "order.received", '{"order_id": 1}', now) for e in events],
    )
    cur.execute("SELECT timezone, currency FROM merchants WHERE id = %s", (merchant_id,))
    cur.execute(
        "SELECT version, settings, created_at FROM program_versions WHERE merchant_id = %s"
        " ORDER BY version",
        (merchant_id,),
    )
    waiting = list(zip(orders, phones, order_ids, strict=True))
    while waiting:  # rounds of one order per member, as record_orders earns
        this_round, later, seen = [], [], set()
        for item in waiting:
            (later if item[1] in seen else this_round).append(item)
            seen.add(item[1])
        waiting = later
        events += _raw_round(cur, merchant_id, this_round, members, now)
        cur.execute("SELECT id FROM tiers WHERE merchant_id = %s", (merchant_id,))
    return events


def _raw_round(cur, merchant_id: int, this_round: list, members: dict, now) -> list[str]:
    """One earning round of a batch (one order per member) in plain SQL; return its events."""
    ids = sorted(members[phone]["id"] for _, phone, _ in this_round)
    cur.execute(
        "SELECT id, points_balance, total_spent FROM members WHERE id = ANY(%s)"
        " ORDER BY id FOR NO KEY UPDATE",
        (ids,),
    )
    totals = {row[0]: [row[1], row[2]] for row in cur.fetchall()}
    points = [int(order.total // 1000) for order, _, _ in this_round]
    cur.executemany(
        "INSERT INTO point_entries (merchant_id, member_id, kind, points, key, rule, order_id,"
        " note, actor, program_version, data, created_at)"
        " VALUES (%s, %s, 'earn', %s, %s, 'base', %s, %s, 'system', 0, '{}', %s) RETURNING id",
        [(merchant_id, members[phone]["id"], p, f"order:{order_id}:earn:base", order_id,
          "450,000 VND at 1 point", now)
         for (_, phone, order_id), p in zip(this_round, points, strict=True)],
        returning=True,
    )  # fmt: skip
    entry_ids = _returned_ids(cur)
    cur.executemany(
        "INSERT INTO point_lots (merchant_id, member_id, entry_id, points, remaining,"
        " available_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [(merchant_id, members[phone]["id"], entry_id, p, p, now, now)
         for (_, phone, _), entry_id, p in zip(this_round, entry_ids, points, strict=True)],
    )  # fmt: skip
    for (order, phone, _), p in zip(this_round, points, strict=True):
        totals[members[phone]["id"]][0] += p
        totals[members[phone]["id"]][1] += order.total
    cur.executemany(
        "UPDATE members SET points_balance = %s, total_spent = %s, updated_at = %s WHERE id = %s",
        [(balance, spent, now, member_id) for member_id, (balance, spent) in totals.items()],
    )
    cur.executemany(
        "INSERT INTO order_accruals (merchant_id, order_id, member_id, program_version, base,"
        " earned, reversed, refunded, spent, cancelled, created_at, updated_at)"
        " VALUES (%s, %s, %s, 0, %s, %s, 0, 0, %s, false, %s, %s)",
        [(merchant_id, order_id, members[phone]["id"], order.total, p, order.total, now, now)
         for (order, phone, order_id), p in zip(this_round, points, strict=True)],
    )  # fmt: skip
    earned = [uuid.uuid4().hex for _ in this_round]
    cur.executemany(
        EVENT_SQL,
        [(e, merchant_id, "points.earned", '{"points": 450}', now) for e in earned],
    )
    return earned


def _raw_accruals(url, merchant_id, tag, numbers, members, batch, barrier, lane):
    orders = [the_order(tag, n, members, *lane) for n in numbers]
    with psycopg.connect(url) as conn:
        barrier.wait()
        for start in range(0, len(orders), batch):
            now = datetime.now(UTC)
            with conn.transaction(), conn.cursor() as cur:
                if batch == 1:
                    events = _raw_accrual(cur, merchant_id, orders[start], now)
                else:
                    events = _raw_batch(cur, merchant_id, orders[start : start + batch], now)
            with conn.transaction():  # dispatched after the commit, together
                conn.execute(
                    "UPDATE events SET dispatched_at = now() WHERE id = ANY(%s)", (events,)
                )
        barrier.wait()


def _guarded(target, *args):
    """Run a benchmark process's body; on failure, break the barrier so the parent stops."""
    barrier = args[-2]
    try:
        target(*args)
    except BaseException:
        barrier.abort()
        raise


def _timed(workers, barrier) -> float:
    """Start the processes; return the seconds between their two barrier meetings."""
    for worker in workers:
        worker.start()
    try:
        barrier.wait()
        started = time.perf_counter()
        barrier.wait()
    except threading.BrokenBarrierError:
        for worker in workers:
            worker.join()
        raise SystemExit("a benchmark process failed; its error is above") from None
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
        if worker.exitcode:
            raise SystemExit(f"a benchmark process failed (exit code {worker.exitcode})")
    return elapsed


def run_processes(target, url, merchant_id, tag, orders, members, processes, batch) -> float:
    """Run ``target`` in ``processes`` processes over ``orders`` orders; return orders/s."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(processes + 1)
    chunks = [list(range(p, orders, processes)) for p in range(processes)]
    workers = [
        context.Process(
            target=_guarded,
            args=(target, url, merchant_id, tag, chunk, members, batch, barrier, (lane, processes)),
        )
        for lane, chunk in enumerate(chunks)
    ]
    return orders / _timed(workers, barrier)


# -- 2. hot-member redemptions ---------------------------------------------------------


@dataclass(frozen=True)
class Hot:
    """The hot member, its merchant and the reward it redeems."""

    member_id: int
    merchant_id: int
    reward_id: int


def _in_threads(threads: int, count: int, work) -> float:
    """Run ``work(n)`` for n in range(count) on ``threads`` threads; return calls per second."""
    numbers = iter(range(count))
    lock = threading.Lock()
    errors: list[BaseException] = []

    def loop():
        while True:
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            try:
                work(n)
            except BaseException as exc:  # reported below, not swallowed
                errors.append(exc)
                return

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return count / elapsed


def _real_redeemer(url: str, hot: Hot, what: str, tag: str, pool: int = 5):
    """One client's way to redeem through the hub: ``ledger.debit`` alone, or ``rewards.redeem``.

    Returns the function redeeming once, and the one closing the client.
    """
    app = make_app(url, config={**CONFIG, "HUB_DB_POOL_SIZE": pool})
    hub = app.extensions["hub"]

    def redeem(n: int) -> None:
        with hub.db.transaction() as session:
            member = session.get(Member, hot.member_id)
            if what == "debit":
                ledger.debit(session, member, 1, kind="redeem", key=f"bench:{tag}:{n}")
            else:
                reward = session.get(Reward, hot.reward_id)
                rewards.redeem(hub, session, member, reward, actor="bench")

    return redeem, hub.db.dispose


def _raw_debit(cur, hot: Hot, key: str, data: str = "{}") -> int:
    """The statements of a debit of 1 point, in plain SQL; return the entry's id."""
    cur.execute("SELECT id FROM point_entries WHERE merchant_id = %s AND key = %s",
                (hot.merchant_id, key))  # fmt: skip
    cur.execute(
        "SELECT points_balance, total_spent FROM members WHERE id = %s FOR NO KEY UPDATE",
        (hot.member_id,),
    )
    balance, spent = cur.fetchone()
    cur.execute(
        "SELECT id, remaining, expires_at, available_at FROM point_lots"
        " WHERE member_id = %s AND remaining > 0"
        " ORDER BY expires_at IS NULL, expires_at, id FOR NO KEY UPDATE",
        (hot.member_id,),
    )
    lot_id, remaining, _, _ = cur.fetchone()
    cur.execute(
        "INSERT INTO point_entries (merchant_id, member_id, kind, points, key, note, actor,"
        " data, created_at) VALUES (%s, %s, 'redeem', -1, %s, '', 'system', %s, now())"
        " RETURNING id",
        (hot.merchant_id, hot.member_id, key, data),
    )
    (entry_id,) = cur.fetchone()
    cur.execute(
        "INSERT INTO point_allocations (entry_id, lot_id, points) VALUES (%s, %s, 1)",
        (entry_id, lot_id),
    )
    cur.execute("UPDATE point_lots SET remaining = %s WHERE id = %s", (remaining - 1, lot_id))
    cur.execute(
        "UPDATE members SET points_balance = %s, total_spent = %s, updated_at = now()"
        " WHERE id = %s",
        (balance - 1, spent, hot.member_id),
    )
    return entry_id


def _raw_redeem(conn: psycopg.Connection, hot: Hot, key: str) -> None:
    """One debit of 1 point in plain SQL: the statements ledger.debit issues."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT id, merchant_id FROM members WHERE id = %s", (hot.member_id,))
        _raw_debit(cur, hot, key)


VOUCHER_SQL = (
    "INSERT INTO vouchers (merchant_id, member_id, reward_id, code, status, reward_name, kind,"
    " value, max_discount, product_sku, min_order, points, points_returned, issued_at,"
    " expires_at, actor, currency)"
    " SELECT %s, %s, %s, %s, 'issued', %s, %s, %s, NULL, NULL, 0, 1, 0, %s, NULL, 'bench',"
    " coalesce(currency, 'VND') FROM merchants WHERE id = %s"
    " ON CONFLICT (merchant_id, code) DO NOTHING RETURNING id, currency"
)
EVENT_SQL = (
    "INSERT INTO events (id, merchant_id, type, data, created_at) VALUES (%s, %s, %s, %s, %s)"
)


def _raw_whole(conn: psycopg.Connection, hot: Hot, code: str) -> None:
    """One whole redemption in plain SQL: the statements rewards.redeem issues, in its order.

    The reward has no stock count and no limit per member, so neither is
    looked at; the debit's refusal is the check of the points.
    """
    now = datetime.now(UTC)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT * FROM members WHERE id = %s", (hot.member_id,))
        cur.execute("SELECT * FROM rewards WHERE id = %s", (hot.reward_id,))
        reward = dict(zip([c.name for c in cur.description], cur.fetchone(), strict=True))
        name, kind, value = reward["name"], reward["kind"], reward["value"]
        cur.execute(VOUCHER_SQL, (hot.merchant_id, hot.member_id, hot.reward_id, code, name,
                                  kind, value, now, hot.merchant_id))  # fmt: skip
        (voucher_id, _) = cur.fetchone()
        data = json.dumps({"reward_id": hot.reward_id, "voucher_id": voucher_id})
        entry_id = _raw_debit(cur, hot, f"redeem:{voucher_id}", data)
        events = [uuid.uuid4().hex, uuid.uuid4().hex]
        cur.executemany(
            EVENT_SQL,
            [(events[0], hot.merchant_id, "points.redeemed", '{"points": 1}', now),
             (events[1], hot.merchant_id, "voucher.issued", '{"code": "x"}', now)],
        )  # fmt: skip
        cur.execute("UPDATE vouchers SET debit_entry_id = %s WHERE id = %s", (entry_id, voucher_id))
    # Dispatched after the commit, one autocommitted statement, as hub.events does.
    conn.execute("UPDATE events SET dispatched_at = now() WHERE id = ANY(%s)", (events,))


def _raw_redeemer(url: str, hot: Hot, what: str, tag: str):
    """``_real_redeemer`` in plain SQL: one connection per calling thread."""
    local = threading.local()
    connections: list[psycopg.Connection] = []
    guard = threading.Lock()

    def connection() -> psycopg.Connection:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(url, autocommit=True)
            with guard:
                connections.append(local.conn)
        return local.conn

    def redeem(n: int) -> None:
        if what == "debit":
            _raw_redeem(connection(), hot, f"raw:{tag}:{n}")
        else:
            _raw_whole(connection(), hot, f"R{tag}{n:+d}".upper()[:32])

    def close() -> None:
        for conn in connections:
            conn.close()

    return redeem, close


def redemptions_in_threads(kind: str, what: str, url: str, hot: Hot, count: int,
                           threads: int) -> float:  # fmt: skip
    """``count`` redemptions from ``threads`` threads of this process; return per second."""
    tag = uuid.uuid4().hex[:6]
    if kind == "real":
        redeem, close = _real_redeemer(url, hot, what, tag, pool=threads + 2)
    else:
        redeem, close = _raw_redeemer(url, hot, what, tag)
    rate = _in_threads(threads, count, redeem)
    close()
    return rate


def _redeem_in_process(kind, what, url, hot, tag, numbers, barrier, client) -> None:
    """Client process ``client``: redeem ``numbers`` one after another, the real or raw way."""
    maker = _real_redeemer if kind == "real" else _raw_redeemer
    redeem, close = maker(url, hot, what, tag)
    redeem(-1 - client)  # connect and warm before the clock starts
    gc.collect()
    gc.freeze()  # as a web worker does once started (hub.wsgi)
    barrier.wait()
    for n in numbers:
        redeem(n)
    barrier.wait()
    close()


def redemptions_in_processes(kind: str, what: str, url: str, hot: Hot, count: int,
                             clients: int) -> float:  # fmt: skip
    """``count`` redemptions from ``clients`` processes (as web workers are); return per second."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients + 1)
    tag = uuid.uuid4().hex[:6]
    workers = [
        context.Process(
            target=_guarded,
            args=(
                _redeem_in_process,
                kind,
                what,
                url,
                hot,
                tag,
                range(p, count, clients),
                barrier,
                p,
            ),
        )
        for p in range(clients)
    ]
    return count / _timed(workers, barrier)


def check_invariants(url: str) -> None:
    """Every member's balance equals its entries; lots hold max(balance, 0)."""
    with psycopg.connect(url) as conn:
        bad = conn.execute(
            "SELECT count(*) FROM members m WHERE m.points_balance <>"
            " (SELECT coalesce(sum(points), 0) FROM point_entries e WHERE e.member_id = m.id)"
            " OR greatest(m.points_balance, 0) <>"
            " (SELECT coalesce(sum(remaining), 0) FROM point_lots l WHERE l.member_id = m.id)"
        ).fetchone()[0]
    if bad:
        raise SystemExit(f"ledger invariant broken for {bad} members")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=6000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--redemptions", type=int, default=6000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--clients",
        choices=("processes", "threads", "both"),
        default="both",
        help="redemption clients as processes (as web workers are) or threads of one process",
    )
    parser.add_argument("--measure", choices=("accruals", "redemptions", "both"), default="both")
    parser.add_argument(
        "--rollups",
        choices=("on", "off", "compare"),
        default="on",
        help="keep the reports' rollups (on), not (off), or measure accruals both ways",
    )
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="run both sides with synchronous_commit=off: the code's cost without disk flushes",
    )
    args = parser.parse_args()

    admin = os.environ.get("HUB_BENCH_DATABASE_URL", DEFAULT_URL)
    name = f"hub_bench_ledger_{os.getpid()}"
    url = create_postgres_database(admin, name)
    if args.async_commit:
        url = make_url(url).update_query_dict({"options": "-c synchronous_commit=off"})
        url = url.render_as_string(hide_password=False)
    raw = make_url(url).set(drivername="postgresql")
    if args.async_commit:
        # libpq reads options=-c%20... only percent-encoded, never with '+' for a space.
        raw = raw.update_query_dict({"options": "-c synchronous_commit=off"})
    base, mark, query = raw.render_as_string(hide_password=False).partition("?")
    raw_url = base + mark + query.replace("+", "%20")
    try:
        migrate(url)
        merchant_id, hot = set_up(url, args.members)
        CONFIG["HUB_REPORT_ROLLUPS"] = args.rollups != "off"
        if args.rollups == "compare":
            rollup_cost(args, url, raw_url, merchant_id)
        elif args.measure != "redemptions":
            accruals(args, url, raw_url, merchant_id)
        if args.measure != "accruals":
            redemptions(args, url, raw_url, hot)
        check_invariants(raw_url)
        print("ledger invariants hold for every member")
    finally:
        drop_postgres_database(admin, name)


def accruals(args, url: str, raw_url: str, merchant_id: int) -> None:
    common = (merchant_id, args.orders, args.members, args.processes, args.batch)
    # Warm both paths (connections, caches, plans) before measuring.
    run_processes(_real_accruals, url, merchant_id, "warm", 200, args.members, 1, 1)
    run_processes(_raw_accruals, raw_url, merchant_id, "warmraw", 200, args.members, 1, 1)
    raw = run_processes(_raw_accruals, raw_url, common[0], "raw", *common[1:])
    real = run_processes(_real_accruals, url, common[0], "real", *common[1:])
    commit = "asynchronous" if args.async_commit else "synchronous"
    how = (
        "one order per transaction, with record_order, as the orders API records them"
        if args.batch == 1
        else f"{args.batch} orders per transaction, with record_orders, as the inbox"
        " worker drains deliveries"
    )
    print(
        f"accruals across {args.members} members, merchant without tiers "
        f"({args.processes} processes, {how}, {commit} commit)"
    )
    print(f"  {'record_order ' if args.batch == 1 else 'record_orders'} {real:8.0f}/s")
    print(f"  raw SQL       {raw:8.0f}/s")
    print(f"  ratio         {real / raw:8.2f}   (target: >= 1,000/s and >= 0.50)")


#: The indexes migration 0009 adds for the rollups' per-day recompute, on tables accruals write.
ROLLUP_INDEXES = {
    "ix_point_entries_merchant_created": "point_entries (merchant_id, created_at)",
    "ix_members_merchant_created": "members (merchant_id, created_at)",
}


def _rollup_indexes(raw_url: str, present: bool) -> None:
    with psycopg.connect(raw_url, autocommit=True) as conn:
        for name, on in ROLLUP_INDEXES.items():
            if present:
                conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")
            else:
                conn.execute(f"DROP INDEX IF EXISTS {name}")


def rollup_cost(args, url: str, raw_url: str, merchant_id: int) -> None:
    """Accruals without the rollups and with them, twice each in turn; print the ratio."""
    common = (args.orders, args.members, args.processes, args.batch)
    run_processes(_real_accruals, url, merchant_id, "warm", 200, args.members, 1, 1)
    best = {False: 0.0, True: 0.0}
    for turn in range(2):
        for rollups in (False, True):
            _rollup_indexes(raw_url, rollups)
            CONFIG["HUB_REPORT_ROLLUPS"] = rollups
            tag = f"{'on' if rollups else 'off'}{turn}"
            rate = run_processes(_real_accruals, url, merchant_id, tag, *common)
            best[rollups] = max(best[rollups], rate)
    print(
        f"accruals with and without the reports' rollups ({args.processes} processes, "
        f"{args.batch} orders per transaction, {args.orders} orders a run, best of 2)"
    )
    print(f"  without rollups {best[False]:8.0f}/s")
    print(f"  with rollups    {best[True]:8.0f}/s")
    print(f"  ratio           {best[True] / best[False]:8.2f}   (target: >= 0.90)")


WHAT = {
    "debit": ("ledger.debit alone: no voucher, no events", "ledger.debit  "),
    "whole": ("a whole redemption: reward, debit, unique voucher, events", "rewards.redeem"),
}


def redemptions(args, url: str, raw_url: str, hot: Hot) -> None:
    modes = ("processes", "threads") if args.clients == "both" else (args.clients,)
    for mode in modes:
        measure = redemptions_in_processes if mode == "processes" else redemptions_in_threads
        for what in ("debit", "whole"):
            raw = measure("raw", what, raw_url, hot, args.redemptions, args.threads)
            real = measure("real", what, url, hot, args.redemptions, args.threads)
            title, name = WHAT[what]
            print(f"hot-member redemptions ({args.threads} clients as {mode}, one member, {title})")
            print(f"  {name} {real:8.0f}/s")
            print(f"  raw SQL        {raw:8.0f}/s")
            print(f"  ratio          {real / raw:8.2f}   (target: >= 500/s and >= 0.50)")


if __name__ == "__main__":
    main()
