"""Reports on a large merchant on PostgreSQL: from the rollups, beside hand-written SQL over
the raw tables in the same run.

    .venv/bin/python -m bench.reports [--members 1000000] [--orders 5000000] [--years 3]
                                      [--runs 10]

The merchant's history is written with set-based SQL (``generate_series``):
members joining over ``--years`` years, orders (a fifth from guests, 2 %
cancelled) with their accruals, ledger entries (earnings, one redemption in
twenty orders with its voucher, refunds' reversals, expiries), lots, refunds
(3 % of orders), tier stays and messages. The rollups are then built with
``hub.reports.rollups.rebuild`` (its time is printed).

Each report of the set (``hub.reports.catalogue.REPORTS``) is run ``--runs``
times for each of three periods ending on the history's last day (30, 90
and 365 days), as the API runs it; the same figures of the reports
the rollups serve (participation, points, tiers, ROI, customers) are computed by
hand-written SQL over the raw tables, timed the same way. Printed: p50 and
p95 per report, and p95 over the whole set, each beside the raw baseline
(target: p95 at most 300 ms). The other reports (rewards,
messages) read their raw rows in both columns: they are timed once, as the
hub runs them.

The accrual cost of keeping the rollups is ``bench/ledger.py --rollups compare``.
The database server is HUB_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test); the benchmark creates its own
database there and drops it at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta

import psycopg
from sqlalchemy.engine import make_url

from hub.merchants.accounts import create_merchant
from hub.reports import rollups
from hub.reports.catalogue import REPORTS
from hub.reports.catalogue import run_report
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
#: The history's last moment: 31 October 2026, 23:59 in Hanoi.
END = datetime(2026, 10, 31, 16, 59, tzinfo=UTC)
LAST_DAY = date(2026, 10, 31)
PERIODS = (30, 90, 365)

HISTORY_SQL = """
INSERT INTO tiers (merchant_id, name, position, threshold, basis, "window", earn_multiplier,
                   benefits, created_at, updated_at)
SELECT %(m)s, name, pos, pos * 1000000, 'spend', 'lifetime', 1, '', %(start)s, %(start)s
FROM (VALUES ('Bạc', 1), ('Vàng', 2), ('Kim Cương', 3)) AS t(name, pos);

INSERT INTO members (merchant_id, code, phone, name, search_name, tags, attributes,
                     points_balance, total_spent, status, joined_via, created_at, updated_at)
SELECT %(m)s, 'B' || n, '+8490' || lpad(n::text, 7, '0'), 'Khách ' || n, 'khach ' || n,
       '[]', '{}', 0, 0, 'active', (ARRAY['store', 'store', 'pos', 'import', 'api'])[1 + n %% 5],
       %(start)s + (%(span)s * (n::float / %(members)s)) * interval '1 second',
       %(start)s
FROM generate_series(1, %(members)s) AS n;

CREATE TEMP TABLE bench_members AS
SELECT row_number() OVER (ORDER BY id) AS n, id, created_at FROM members WHERE merchant_id = %(m)s;
CREATE INDEX ON bench_members (n);

INSERT INTO orders (merchant_id, source, external_id, member_id, currency, subtotal,
                    total_discounts, shipping, tax, total, discount_codes, financial_status,
                    customer, placed_at, paid_at, cancelled_at, created_at, updated_at)
SELECT %(m)s, 'bench', 'O' || o.n,
       CASE WHEN o.n %% 5 = 0 THEN NULL ELSE bm.id END,
       'VND', o.amount, 0, 0, 0, o.amount, '[]',
       CASE WHEN o.n %% 50 = 0 THEN 'voided' ELSE 'paid' END, '{}', o.at, o.at,
       CASE WHEN o.n %% 50 = 0 THEN o.at + interval '1 hour' END, o.at, o.at
FROM (
    SELECT n, (50000 + (n * 7919) %% 1950000)::numeric AS amount,
           %(start)s + (%(span)s * (n::float / %(orders)s)) * interval '1 second' AS at,
           1 + (n * 104729) %% %(members)s AS who
    FROM generate_series(1::bigint, %(orders)s::bigint) AS n
) o JOIN bench_members bm ON bm.n = o.who;

INSERT INTO order_accruals (merchant_id, order_id, member_id, program_version, base, earned,
                            reversed, refunded, spent, cancelled, created_at, updated_at)
SELECT merchant_id, id, member_id, 1, total, (total / 1000)::bigint, 0, 0, total, false,
       placed_at, placed_at
FROM orders
WHERE merchant_id = %(m)s AND member_id IS NOT NULL AND financial_status = 'paid';

INSERT INTO point_entries (merchant_id, member_id, kind, points, key, rule, order_id, note,
                           actor, data, created_at)
SELECT merchant_id, member_id, 'earn', earned, 'order:' || order_id || ':earn:base', 'base',
       order_id, '', 'system', '{}', created_at + interval '1 minute'
FROM order_accruals WHERE merchant_id = %(m)s;

INSERT INTO point_lots (merchant_id, member_id, entry_id, points, remaining, available_at,
                        expires_at, created_at)
SELECT merchant_id, member_id, id, points, points / 2, created_at,
       created_at + interval '365 days', created_at
FROM point_entries WHERE merchant_id = %(m)s AND kind = 'earn';

INSERT INTO point_entries (merchant_id, member_id, kind, points, key, rule, order_id, note,
                           actor, data, created_at)
SELECT merchant_id, member_id, 'redeem', -100, 'redeem:' || id, 'reward', NULL, '', 'system',
       '{}', created_at + interval '2 days'
FROM point_entries WHERE merchant_id = %(m)s AND kind = 'earn' AND id %% 20 = 0;

INSERT INTO point_entries (merchant_id, member_id, kind, points, key, rule, order_id, note,
                           actor, data, created_at)
SELECT merchant_id, member_id, 'expire', -(points / 4), 'expire:' || id, 'expiry', NULL, '',
       'system', '{}', created_at + interval '365 days'
FROM point_entries
WHERE merchant_id = %(m)s AND kind = 'earn' AND id %% 7 = 0 AND points >= 4
  AND created_at + interval '365 days' <= %(end)s;

INSERT INTO vouchers (merchant_id, member_id, code, status, reward_name, kind, value, min_order,
                      currency, points, points_returned, issued_at, expires_at, used_at,
                      used_order_id, used_discount, actor)
SELECT e.merchant_id, e.member_id, 'V' || e.id,
       CASE WHEN e.id %% 3 = 0 THEN 'used' ELSE 'issued' END, 'Giảm 20.000đ', 'amount_off',
       20000, 0, 'VND', 100, 0, e.created_at, e.created_at + interval '30 days',
       CASE WHEN e.id %% 3 = 0 THEN e.created_at + interval '3 days' END,
       NULL, CASE WHEN e.id %% 3 = 0 THEN 20000 END, 'system'
FROM point_entries e WHERE e.merchant_id = %(m)s AND e.kind = 'redeem';

INSERT INTO order_refunds (merchant_id, order_id, source, order_external_id, external_id, amount,
                           currency, refunded_at, lines, note, points_reversed, applied_at,
                           created_at)
SELECT merchant_id, id, source, external_id, 'R' || id, total / 2, 'VND',
       placed_at + interval '5 days', '[]', '', 0, placed_at + interval '5 days',
       placed_at + interval '5 days'
FROM orders
WHERE merchant_id = %(m)s AND id %% 33 = 0 AND placed_at + interval '5 days' <= %(end)s;

INSERT INTO point_entries (merchant_id, member_id, kind, points, key, rule, order_id, note,
                           actor, data, created_at)
SELECT a.merchant_id, a.member_id, 'reverse', -(a.earned / 2),
       'order:' || a.order_id || ':refund:' || r.external_id, 'refund', a.order_id, '',
       'system', '{}', r.refunded_at
FROM order_refunds r JOIN order_accruals a ON a.order_id = r.order_id
WHERE r.merchant_id = %(m)s AND a.earned >= 2;

INSERT INTO member_tiers (merchant_id, member_id, tier_id, tier_name, reason, note, actor,
                          is_override, started_at, data)
SELECT %(m)s, bm.id, t.id, t.name, 'qualified', '', 'system', false,
       bm.created_at + interval '30 days', '{}'
FROM bench_members bm JOIN tiers t ON t.merchant_id = %(m)s AND t.position = 1 + bm.n %% 3
WHERE bm.n %% 4 = 0 AND bm.created_at + interval '30 days' <= %(end)s;

INSERT INTO messages (merchant_id, member_id, kind, dedupe_key, status, locale, body, variables,
                      channel, cost, cost_currency, attempts, history, created_at, updated_at)
SELECT %(m)s, bm.id, 'points_earned', 'bench:' || bm.n,
       CASE WHEN bm.n %% 10 = 0 THEN 'failed' ELSE 'delivered' END, 'vi', '', '{}',
       CASE WHEN bm.n %% 2 = 0 THEN 'sms' ELSE 'zalo' END, 300, 'VND', 1, '[]',
       bm.created_at + interval '1 day', bm.created_at + interval '1 day'
FROM bench_members bm WHERE bm.n %% 5 = 0;

UPDATE members m SET points_balance = s.points
FROM (SELECT member_id, sum(points) AS points FROM point_entries
      WHERE merchant_id = %(m)s GROUP BY member_id) s
WHERE m.id = s.member_id;

UPDATE members m SET total_spent = s.spent
FROM (SELECT member_id, sum(spent) AS spent FROM order_accruals
      WHERE merchant_id = %(m)s GROUP BY member_id) s
WHERE m.id = s.member_id;
"""

RAW_POINTS = """
SELECT kind, sign(points) AS sign, rule, count(*), sum(points)
FROM point_entries
WHERE merchant_id = %(m)s AND created_at >= %(start)s AND created_at < %(end)s
GROUP BY kind, sign(points), rule;
SELECT coalesce(sum(points), 0) FROM point_entries WHERE merchant_id = %(m)s
  AND created_at < %(end)s;
"""
RAW_ORDERS = """
SELECT member_id IS NULL AS guest,
       CASE WHEN cancelled_at IS NOT NULL OR financial_status = 'voided' THEN 'cancelled'
            WHEN EXISTS (SELECT 1 FROM order_accruals a WHERE a.order_id = o.id
                         AND a.earned > 0)
              OR EXISTS (SELECT 1 FROM vouchers v WHERE v.used_order_id = o.id) THEN 'loyalty'
            ELSE 'plain' END AS state,
       count(*), sum(total)
FROM orders o
WHERE merchant_id = %(m)s AND placed_at >= %(start)s AND placed_at < %(end)s
GROUP BY 1, 2;
"""
RAW_PARTICIPATION = (
    RAW_ORDERS
    + """
SELECT count(*) FROM members WHERE merchant_id = %(m)s AND merged_into_id IS NULL
  AND created_at >= %(start)s AND created_at < %(end)s;
SELECT count(*) FROM members WHERE merchant_id = %(m)s AND merged_into_id IS NULL
  AND created_at < %(end)s;
SELECT count(DISTINCT member_id) FROM orders WHERE merchant_id = %(m)s
  AND placed_at >= %(start)s AND placed_at < %(end)s AND member_id IS NOT NULL
  AND cancelled_at IS NULL AND financial_status <> 'voided';
"""
)
RAW_ROI = (
    RAW_ORDERS
    + """
SELECT coalesce(sum(used_discount), 0) FROM vouchers WHERE merchant_id = %(m)s
  AND used_at >= %(start)s AND used_at < %(end)s;
SELECT coalesce(sum(cost), 0) FROM messages WHERE merchant_id = %(m)s
  AND created_at >= %(start)s AND created_at < %(end)s;
"""
)
RAW_TIERS = """
WITH ends AS (
  SELECT least((m + interval '1 month') AT TIME ZONE 'Asia/Ho_Chi_Minh', %(end)s) AS at
  FROM generate_series(date_trunc('month', %(start)s AT TIME ZONE 'Asia/Ho_Chi_Minh'),
                       %(end)s AT TIME ZONE 'Asia/Ho_Chi_Minh' - interval '1 second',
                       interval '1 month') AS m
)
SELECT e.at, s.tier_name, count(*) FROM ends e JOIN member_tiers s
  ON s.started_at < e.at AND (s.ended_at IS NULL OR s.ended_at >= e.at)
WHERE s.merchant_id = %(m)s AND s.tier_name IS NOT NULL GROUP BY 1, 2;
SELECT date_trunc('month', s.started_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS month,
       count(*) FILTER (WHERE n.position > coalesce(o.position, -1)),
       count(*) FILTER (WHERE o.position > coalesce(n.position, -1))
FROM member_tiers s LEFT JOIN tiers n ON n.id = s.tier_id
  LEFT JOIN tiers o ON o.id = s.previous_tier_id
WHERE s.merchant_id = %(m)s AND s.started_at >= %(start)s AND s.started_at < %(end)s
GROUP BY 1;
"""
_BOUGHT = ("merchant_id = %(m)s AND member_id IS NOT NULL AND cancelled_at IS NULL"
           " AND financial_status <> 'voided'")  # fmt: skip
RAW_CUSTOMERS = f"""
SELECT count(*), count(*) FILTER (WHERE n >= 2) FROM (
  SELECT member_id, count(*) AS n FROM orders
  WHERE {_BOUGHT} AND placed_at >= %(start)s AND placed_at < %(end)s GROUP BY member_id) b;
SELECT t.tier_name, count(DISTINCT o.member_id), count(*), sum(o.total)
FROM orders o LEFT JOIN member_tiers t ON t.member_id = o.member_id AND t.ended_at IS NULL
  AND t.tier_id IS NOT NULL
WHERE o.{_BOUGHT.replace(" AND ", " AND o.")} AND o.placed_at >= %(start)s
  AND o.placed_at < %(end)s
GROUP BY 1;
SELECT count(*), coalesce(sum(total_spent), 0) FROM members
WHERE merchant_id = %(m)s AND merged_into_id IS NULL AND total_spent > 0;
SELECT count(*), sum(total), count(DISTINCT member_id) FROM orders
WHERE {_BOUGHT} AND placed_at >= %(end)s - interval '365 days' AND placed_at < %(end)s;
SELECT count(*) FROM (
  SELECT DISTINCT member_id FROM orders WHERE {_BOUGHT}
    AND placed_at >= %(end)s - interval '730 days' AND placed_at < %(end)s - interval '365 days'
) b JOIN (
  SELECT DISTINCT member_id FROM orders WHERE {_BOUGHT}
    AND placed_at >= %(end)s - interval '365 days' AND placed_at < %(end)s
) a USING (member_id);
"""
#: The cohorts, which the report counts once (for the period, not the one before it).
RAW_COHORTS = f"""
SELECT date_trunc('month', m.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS cohort, count(*)
FROM members m WHERE m.merchant_id = %(m)s AND m.merged_into_id IS NULL
  AND m.created_at >= greatest(%(start)s, %(end)s - interval '365 days') AND m.created_at < %(end)s
GROUP BY 1;
SELECT date_trunc('month', m.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS cohort,
       date_trunc('month', o.placed_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS bought,
       count(DISTINCT m.id)
FROM members m JOIN orders o ON o.member_id = m.id
WHERE m.merchant_id = %(m)s AND m.merged_into_id IS NULL
  AND m.created_at >= greatest(%(start)s, %(end)s - interval '365 days') AND m.created_at < %(end)s
  AND o.{_BOUGHT.replace(" AND ", " AND o.")}
  AND o.placed_at >= greatest(%(start)s, %(end)s - interval '365 days') AND o.placed_at < %(end)s
GROUP BY 1, 2;
"""
#: Hand-written SQL over the raw tables for the figures each report reads from the rollups,
#: for the period and for the one before it (as the report computes both).
RAW = {
    "participation": RAW_PARTICIPATION, "points": RAW_POINTS, "roi": RAW_ROI, "tiers": RAW_TIERS,
    "customers": RAW_CUSTOMERS,
}  # fmt: skip
ONCE = {"customers": RAW_COHORTS}


def build(url: str, raw_url: str, members: int, orders: int, years: int) -> tuple[object, int]:
    app = make_app(url, config=CONFIG)
    hub = app.extensions["hub"]
    with hub.db.transaction() as session:
        merchant_id = create_merchant(session, "Bench reports").id
    start = END - timedelta(days=365 * years)
    params = {"m": merchant_id, "start": start, "end": END, "members": members,
              "orders": orders, "span": (END - start).total_seconds()}  # fmt: skip
    began = time.perf_counter()
    with psycopg.connect(raw_url) as conn:
        for statement in HISTORY_SQL.split(";\n"):
            if statement.strip():
                conn.execute(statement, params)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    print(f"history written in {time.perf_counter() - began:.0f} s "
          f"({members:,} members, {orders:,} orders over {years} years)")  # fmt: skip
    began = time.perf_counter()
    with hub.db.transaction() as session:
        rows = rollups.rebuild(session, merchant_id)
    print(f"rollups rebuilt in {time.perf_counter() - began:.1f} s ({rows:,} rows)")
    with psycopg.connect(raw_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE report_days")
        conn.execute("VACUUM ANALYZE report_member_days")
    return hub, merchant_id


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _raw_run(conn, name: str, merchant_id: int, first: date, days: int) -> None:
    for offset in (0, days):  # the period, then the one before it
        end = _start(LAST_DAY + timedelta(days=1) - timedelta(days=offset))
        start = end - timedelta(days=days)
        sql = RAW[name] + (ONCE.get(name, "") if offset == 0 else "")
        for statement in sql.split(";\n"):
            if statement.strip():
                conn.execute(statement, {"m": merchant_id, "start": start, "end": end}).fetchall()


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=7)


def measure(hub, raw_url: str, merchant_id: int, runs: int) -> None:
    timings: dict[str, list[float]] = {name: [] for name in REPORTS}
    baseline: dict[str, list[float]] = {name: [] for name in RAW}
    now = END + timedelta(minutes=1)
    with psycopg.connect(raw_url, autocommit=True) as conn:
        for days in PERIODS:
            first = LAST_DAY - timedelta(days=days - 1)
            for name in REPORTS:
                repeat = runs if name in RAW else 1
                for _ in range(repeat):
                    began = time.perf_counter()
                    run_report(hub, merchant_id, name, first, LAST_DAY, now=now)
                    timings[name].append(time.perf_counter() - began)
                    if name in RAW:
                        began = time.perf_counter()
                        _raw_run(conn, name, merchant_id, first, days)
                        baseline[name].append(time.perf_counter() - began)
    print(f"report times over periods of {PERIODS} days ending {LAST_DAY} (ms)")
    print(f"  {'report':14} {'p50':>8} {'p95':>8}   {'raw p50':>8} {'raw p95':>8}")
    for name in REPORTS:
        ms = [t * 1000 for t in timings[name]]
        line = f"  {name:14} {statistics.median(ms):8.1f} {_p(ms, 0.95):8.1f}"
        if name in RAW:
            raw = [t * 1000 for t in baseline[name]]
            line += f"   {statistics.median(raw):8.1f} {_p(raw, 0.95):8.1f}"
        else:
            line += "   (reads its raw rows)"
        print(line)
    served = [t * 1000 for name in RAW for t in timings[name]]
    raw = [t * 1000 for name in RAW for t in baseline[name]]
    every = [t * 1000 for name in REPORTS for t in timings[name]]
    print(f"  p95, reports served by the rollups {_p(served, 0.95):8.1f}   raw SQL "
          f"{_p(raw, 0.95):8.1f}   ratio {_p(served, 0.95) / _p(raw, 0.95):.2f}")  # fmt: skip
    print(f"  p95, the whole report set          {_p(every, 0.95):8.1f}   (target: <= 300)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    admin = os.environ.get("HUB_BENCH_DATABASE_URL", DEFAULT_URL)
    name = f"hub_bench_reports_{os.getpid()}"
    url = create_postgres_database(admin, name)
    raw_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        migrate(url)
        hub, merchant_id = build(url, raw_url, args.members, args.orders, args.years)
        measure(hub, raw_url, merchant_id, args.runs)
        hub.db.dispose()
    finally:
        if not args.keep:
            drop_postgres_database(admin, name)


if __name__ == "__main__":
    main()
