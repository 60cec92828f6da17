"""Counting a segment over 1,000,000 members on PostgreSQL, beside the same query by hand.

    .venv/bin/python -m bench.segments [--members 1000000] [--orders 1500000] [--rounds 5]
                                       [--keep | --database NAME]

Seeds one merchant with ``--members`` members (server-side, with
generate_series): four tiers and a quarter of the members in no tier, about
60 % consenting to SMS, and ``--orders`` paid orders over the last 365 days
with their accruals; a second merchant with a tenth as many members shares
the tables. Then counts the realistic segment "tier Vàng or Kim cương, spent
at least 1,000,000 VND in the last 90 days, consents to SMS" through
``hub.segments.count_members`` (conditions loaded, compiled, run), and the
same count written by hand in SQL through psycopg, alternating, ``--rounds``
times each; prints every round, the medians and the ratio (hand-written
time / service time). Goals: the service at most 1 s, ratio at least 0.5.

The database server is the one in HUB_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test); the benchmark creates its own
database there and drops it at the end, unless ``--keep`` keeps it for later
runs to measure again with ``--database NAME`` (and drop by hand).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal

import psycopg
from sqlalchemy.engine import make_url

from hub.merchants.accounts import create_merchant
from hub.segments import count_members
from hub.testing import create_postgres_database
from hub.testing import drop_postgres_database
from hub.testing import make_app
from hub.testing import migrate

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONFIG = {"HUB_LOAD_ENTRYPOINTS": False, "HUB_LOG_LEVEL": "WARNING"}
NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
TIERS = ("Đồng", "Bạc", "Vàng", "Kim cương")
MIN_SPENT = Decimal(1_000_000)

MEMBERS_SQL = """
INSERT INTO members (merchant_id, code, phone, name, search_name, tags, attributes,
                     points_balance, total_spent, status, created_at, updated_at)
SELECT %(merchant)s, 'M' || %(prefix)s || i, '+84' || (900000000 + i)::text, 'Khách ' || i,
       'khach ' || i, '[]'::jsonb, '{}'::jsonb, (i * 37) %% 5000, 0, 'active',
       %(now)s - make_interval(days => i %% 1500), %(now)s
FROM generate_series(1, %(count)s) AS i
"""
TIERS_SQL = """
INSERT INTO member_tiers (merchant_id, member_id, tier_id, tier_name, reason, note, actor,
                          is_override, started_at, data)
SELECT m.merchant_id, m.id, t.id, t.name, 'qualified', '', 'bench', false, %(now)s, '{}'::jsonb
FROM members m JOIN tiers t ON t.merchant_id = m.merchant_id AND t.position = m.id %% 5
WHERE m.merchant_id = %(merchant)s
"""
CONSENTS_SQL = """
INSERT INTO member_consents (merchant_id, member_id, channel, granted, source, changed_at)
SELECT merchant_id, id, 'sms', (id %% 10) < 7, 'bench', %(now)s
FROM members WHERE merchant_id = %(merchant)s AND (id %% 10) <> 9
"""
ORDERS_SQL = """
INSERT INTO orders (merchant_id, source, external_id, member_id, currency, subtotal,
                    total_discounts, shipping, tax, total, discount_codes, financial_status,
                    customer, placed_at, paid_at, created_at, updated_at)
SELECT %(merchant)s, 'bench', 'o' || i, %(first)s + (i * 7919) %% %(members)s, 'VND',
       t, 0, 0, 0, t, '[]'::jsonb, 'paid', '{}'::jsonb, p, p, p, p
FROM generate_series(1::bigint, %(count)s::bigint) AS i,
     LATERAL (SELECT (100000 + (i * 104729) %% 1900000)::numeric AS t,
                     %(now)s - make_interval(secs => (i * 15485863) %% (365 * 86400)) AS p) AS x
"""
ACCRUALS_SQL = """
INSERT INTO order_accruals (merchant_id, order_id, member_id, program_version, base, earned,
                            reversed, refunded, spent, cancelled, created_at, updated_at)
SELECT merchant_id, id, member_id, 1, total, 0, 0, 0, total, (id %% 50) = 0, placed_at, placed_at
FROM orders WHERE merchant_id = %(merchant)s
"""
SPENT_SQL = """
UPDATE members m SET total_spent = s.spent
FROM (SELECT member_id, sum(spent) AS spent FROM order_accruals
      WHERE merchant_id = %(merchant)s GROUP BY member_id) AS s
WHERE m.id = s.member_id
"""

#: The segment as a person writes it in SQL: the baseline.
HAND_WRITTEN = """
SELECT count(*) FROM members m
WHERE m.merchant_id = %(merchant)s AND m.status = 'active'
  AND m.id IN (SELECT member_id FROM member_tiers
               WHERE merchant_id = %(merchant)s AND ended_at IS NULL AND tier_id = ANY(%(tiers)s))
  AND m.id IN (SELECT member_id FROM member_consents
               WHERE merchant_id = %(merchant)s AND channel = 'sms' AND granted)
  AND m.id IN (SELECT a.member_id FROM order_accruals a JOIN orders o ON o.id = a.order_id
               WHERE a.merchant_id = %(merchant)s AND NOT a.cancelled AND o.placed_at >= %(since)s
               GROUP BY a.member_id HAVING sum(a.spent) >= %(min_spent)s)
"""


def seed(raw_url: str, merchant: int, members: int, orders: int, prefix: str) -> None:
    """Members, tiers, consents, orders and accruals of one merchant, all server-side."""
    with psycopg.connect(raw_url, autocommit=True) as connection:
        first = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM members").fetchone()[0]
        args = {"merchant": merchant, "count": members, "now": NOW, "prefix": prefix}
        connection.execute(MEMBERS_SQL, args)
        for position, name in enumerate(TIERS, start=1):
            connection.execute(
                'INSERT INTO tiers (merchant_id, name, position, threshold, basis, "window", '
                "earn_multiplier, benefits, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, 'spend', 'lifetime', 1, '', %s, %s)",
                (merchant, name, position, position * 1_000_000, NOW, NOW),
            )
        order_args = {**args, "count": orders, "first": first, "members": members}
        steps = (("tiers", TIERS_SQL, args), ("consents", CONSENTS_SQL, args),
                 ("orders", ORDERS_SQL, order_args), ("accruals", ACCRUALS_SQL, args),
                 ("total spent", SPENT_SQL, args))  # fmt: skip
        for name, sql, values in steps:
            started = time.perf_counter()
            connection.execute(sql, values)
            print(f"  {prefix} {name}: {time.perf_counter() - started:.1f} s", flush=True)


def tier_ids(raw_url: str, merchant: int) -> list[int]:
    with psycopg.connect(raw_url) as connection:
        rows = connection.execute(
            "SELECT id FROM tiers WHERE merchant_id = %s AND name = ANY(%s) ORDER BY id",
            (merchant, ["Vàng", "Kim cương"]),
        ).fetchall()
    return [row[0] for row in rows]


def conditions(tiers: list[int]) -> dict:
    return {
        "all": [
            {"kind": "tier", "tier_ids": tiers},
            {"kind": "total_spent", "min": str(MIN_SPENT), "within_days": 90},
            {"kind": "consent", "channel": "sms"},
        ]
    }


def measure(args, url: str, raw_url: str, merchant: int) -> None:
    tiers = tier_ids(raw_url, merchant)
    app = make_app(url, config=CONFIG)
    hub = app.extensions["hub"]
    # "The last 90 days" in Ho Chi Minh City: from local midnight 89 days before today.
    local_today = (NOW + timedelta(hours=7)).date()
    since = datetime.combine(local_today - timedelta(days=89), datetime.min.time(), UTC)
    since -= timedelta(hours=7)
    params = {"merchant": merchant, "tiers": tiers, "since": since, "min_spent": MIN_SPENT}
    service_times, hand_times = [], []
    with app.app_context(), psycopg.connect(raw_url) as connection:
        for round_ in range(1, args.rounds + 1):
            started = time.perf_counter()
            with hub.db.session() as session:
                counted = count_members(session, merchant, conditions(tiers), now=NOW)
            service_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            by_hand = connection.execute(HAND_WRITTEN, params).fetchone()[0]
            connection.rollback()
            hand_times.append(time.perf_counter() - started)
            if counted != by_hand:
                raise SystemExit(f"the counts differ: service {counted}, by hand {by_hand}")
            print(
                f"round {round_}: service {service_times[-1]:.3f} s, "
                f"by hand {hand_times[-1]:.3f} s, {counted} members"
            )
    service, hand = statistics.median(service_times), statistics.median(hand_times)
    print(f"median: service {service:.3f} s, by hand {hand:.3f} s, ratio {hand / service:.2f}")
    print(f"goals: service <= 1 s {'met' if service <= 1 else 'MISSED'}, "
          f"ratio >= 0.5 {'met' if hand / service >= 0.5 else 'MISSED'}")  # fmt: skip
    hub.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=1_500_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--database", help="measure on a database kept by an earlier run")
    args = parser.parse_args()

    admin = os.environ.get("HUB_BENCH_DATABASE_URL", DEFAULT_URL)
    name = args.database or f"hub_bench_segments_{os.getpid()}"
    if args.database:
        url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    else:
        url = create_postgres_database(admin, name)
    raw_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        if not args.database:
            build(args, url, raw_url)
        with psycopg.connect(raw_url) as connection:
            merchant = connection.execute(
                "SELECT id FROM merchants WHERE name = 'Bench shop'"
            ).fetchone()[0]
        measure(args, url, raw_url, merchant)
    finally:
        if args.keep or args.database:
            print(f"kept: --database {name}")
        else:
            drop_postgres_database(admin, name)


def build(args, url: str, raw_url: str) -> None:
    """Migrate and seed the bench database: the merchant measured and another beside it."""
    migrate(url)
    app = make_app(url, config=CONFIG)
    hub = app.extensions["hub"]
    with hub.db.transaction() as session:
        merchant = create_merchant(session, "Bench shop").id
        other = create_merchant(session, "Other shop").id
    hub.db.dispose()
    started = time.perf_counter()
    seed(raw_url, merchant, args.members, args.orders, "a")
    seed(raw_url, other, args.members // 10, args.orders // 10, "b")
    with psycopg.connect(raw_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    print(f"seeded {args.members} members, {args.orders} orders "
          f"in {time.perf_counter() - started:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
