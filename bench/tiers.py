"""``POST /api/v1/tiers`` for a merchant with many members, beside a trivial GET in the same run.

    .venv/bin/python -m bench.tiers [--members 100000] [--repeat 5] [--review]

A merchant with ``--members`` members (written by one ``INSERT ... SELECT``
from ``generate_series``, a few seconds for 100,000) on PostgreSQL, its jobs
on the job table as under ``hub serve`` without Redis. Each tier created
answers at once and leaves the review of every member to a job; the benchmark
times the request and, as its baseline, ``GET /api/v1/tiers`` (the same key
check and session, no work). Target: the POST answers in under a second.
``--review`` also runs the queued reviews with the embedded runner and times them.

The database server is the one in HUB_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test); the benchmark creates its own
database there and drops it at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable

from sqlalchemy import text

from hub.runner import EmbeddedRunner
from hub.testing import create_postgres_database
from hub.testing import create_test_merchant
from hub.testing import drop_postgres_database
from hub.testing import make_app
from hub.testing import migrate

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
CONFIG = {"HUB_LOAD_ENTRYPOINTS": False, "HUB_LOG_LEVEL": "WARNING"}

SEED = text(
    """
    INSERT INTO members (merchant_id, code, phone, name, search_name, tags, attributes,
                         points_balance, total_spent, status, created_at, updated_at)
    SELECT :merchant, 'B' || n, '+849' || (10000000 + n), 'Member ' || n, 'member ' || n,
           '[]', '{}', 0,
           (n % 500) * 100000, 'active', now(), now()
    FROM generate_series(1, :count) AS n
    """
)


def seed_members(hub, merchant_id: int, count: int) -> float:
    """Write ``count`` members of ``merchant_id`` in one statement; return the seconds taken."""
    started = time.perf_counter()
    with hub.db.engine.begin() as connection:
        connection.execute(SEED, {"merchant": merchant_id, "count": count})
        connection.exec_driver_sql("ANALYZE members")
    return time.perf_counter() - started


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    """Seconds each of ``repeat`` calls took."""
    figures = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        figures.append(time.perf_counter() - started)
    return figures


def run(members: int, repeat: int, review: bool) -> None:
    admin_url = os.environ.get("HUB_BENCH_DATABASE_URL", DEFAULT_URL)
    name = f"hub_bench_tiers_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(admin_url, name)
    try:
        migrate(url)
        app = make_app(url, config=CONFIG)
        hub = app.extensions["hub"]
        hub.jobs.use_job_table()
        merchant = create_test_merchant(hub, "Bench shop")
        seeded = seed_members(hub, merchant.id, members)
        print(f"seeded {members:,} members in {seeded:.1f}s")
        client = app.test_client()
        headers = merchant.headers

        def list_tiers() -> None:
            assert client.get("/api/v1/tiers", headers=headers).status_code == 200

        created = iter(range(1, repeat + 1))

        def create_tier() -> None:
            n = next(created)
            body = {"name": f"Tier {n}", "threshold": str(n * 1_000_000)}
            answer = client.post("/api/v1/tiers", json=body, headers=headers)
            assert answer.status_code == 201, answer.json
            assert answer.json["review_job_id"], answer.json

        list_tiers()  # the first request of a process pays for what it loads once
        gets = timed(list_tiers, repeat)
        posts = timed(create_tier, repeat)
        get, post = statistics.median(gets), statistics.median(posts)
        print(f"GET  /api/v1/tiers  median {get * 1000:8.1f} ms  (baseline)")
        print(f"POST /api/v1/tiers  median {post * 1000:8.1f} ms  max {max(posts) * 1000:.1f} ms")
        print(f"ratio POST/GET {post / get:.1f}; under a second: {max(posts) < 1.0}")
        if review:
            started = time.perf_counter()
            ran = EmbeddedRunner(hub).run_due()
            took = time.perf_counter() - started
            print(f"{ran} review job(s) of {members:,} members ran in {took:.1f}s")
        hub.db.dispose()
    finally:
        drop_postgres_database(admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--review", action="store_true", help="also run the queued reviews")
    args = parser.parse_args()
    run(args.members, args.repeat, args.review)


if __name__ == "__main__":
    main()
