"""Widget JSON requests per second and tail latency, beside a bare Flask endpoint.

Runs on PostgreSQL and Redis, both apps under gunicorn with 2 sync workers,
in the same run:

    .venv/bin/python -m bench.widget [--members 1000] [--seconds 10]

Environment: HUB_BENCH_DATABASE_URL (a PostgreSQL server; the benchmark makes
and drops a database of its own), HUB_BENCH_REDIS_URL.
Every member's first visit is made (and timed) before measuring: it builds
the panel from the database. The figures that follow are repeat visits, served
from the per-member cache, as a storefront's visitors are between changes.
Targets on a 2-core machine: at least 1,000 widget requests/s, and p99 at most
20 ms at 300 requests/s.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from bench.loadgen import Gunicorn
from bench.loadgen import _request
from bench.loadgen import closed_loop
from bench.loadgen import open_loop
from bench.loadgen import report
from hub.members.directory import add_identity
from hub.members.directory import create_member
from hub.merchants.accounts import create_merchant
from hub.merchants.connections import create_connection
from hub.points import ledger
from hub.testing import create_postgres_database
from hub.testing import drop_postgres_database
from hub.testing import make_app
from hub.testing import migrate
from hub.widget.tokens import new_widget_secret
from hub.widget.tokens import sign_visitor

WRK_TOKENS = """
tokens = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1]})
end
"""


def seed(url: str, members: int) -> tuple[int, str]:
    app = make_app(url)
    hub = app.extensions["hub"]
    secret = new_widget_secret()
    with hub.db.transaction() as session:
        merchant = create_merchant(session, "Bench shop")
        connection = create_connection(
            hub,
            session,
            merchant.id,
            connector="api",
            settings={
                "widget_rate_limits": {
                    "connection_per_minute": 10_000_000,
                    "visitor_per_minute": 100_000,
                }
            },
            secrets={"widget_secret": secret},
        )
        merchant_id, connection_id = merchant.id, connection.id
    for start in range(0, members, 200):
        with hub.db.transaction() as session:
            for n in range(start, min(members, start + 200)):
                member = create_member(
                    session, merchant_id, {"phone": f"09{10_000_000 + n}", "name": f"M{n}"}
                )
                add_identity(session, member, connection_id, f"c{n}")
                ledger.credit(session, member, 100 + n, kind="adjust", key=f"seed:{n}")
    hub.db.dispose()
    return connection_id, secret


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    admin = os.environ.get("HUB_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    redis = os.environ.get("HUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    name = f"bench_widget_{uuid.uuid4().hex[:8]}"
    url = create_postgres_database(admin, name)
    try:
        migrate(url)
        connection_id, secret = seed(url, args.members)
        tokens = [sign_visitor(f"c{n}", secret) for n in range(args.members)]
        rng = random.Random(1)
        pick = [rng.randrange(args.members) for _ in range(100_000)]
        env = {
            "HUB_DATABASE_URL": url,
            "HUB_REDIS_URL": redis,
            "HUB_REDIS_PREFIX": f"bench{uuid.uuid4().hex[:6]}",
            "HUB_SECRET_KEY": "test-secret-key-not-for-production",
            "HUB_LOG_LEVEL": "WARNING",
        }
        lua = WRK_TOKENS % ", ".join(f'"{t}"' for t in tokens[:500])
        with Gunicorn("bench.bare:app") as bare, Gunicorn("hub.wsgi:app", env=env) as hub:
            widget_url = f"{hub.url}/widget/v1/c/{connection_id}/state"

            def auth(i: int) -> dict[str, str]:
                return {"Authorization": f"Bearer {tokens[pick[i % len(pick)]]}"}

            # First visits: every member's panel is built from the database once
            # (then it is served from the cache until a change or its time is up).
            started = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                codes = list(
                    pool.map(
                        lambda n: _request(widget_url, {"Authorization": f"Bearer {tokens[n]}"}),
                        range(args.members),
                    )
                )
            cold = args.members / (time.perf_counter() - started)
            if set(codes) != {200}:
                raise SystemExit(f"first visits answered {sorted(set(codes))}")
            closed_loop(widget_url, auth, seconds=2, concurrency=8, lua=lua)  # warm the workers
            bare_max = closed_loop(
                f"{bare.url}/bare", lambda i: {}, seconds=args.seconds, concurrency=16, lua=""
            )
            widget_max = closed_loop(
                widget_url, auth, seconds=args.seconds, concurrency=16, lua=lua
            )
            bare_300 = open_loop(f"{bare.url}/bare", lambda i: {}, rate=300, seconds=args.seconds)
            widget_300 = open_loop(widget_url, auth, rate=300, seconds=args.seconds)
        report(
            f"Widget API, gunicorn -w 2, PostgreSQL + Redis, {args.members} members",
            [
                ("bare endpoint, saturated", f"{bare_max.rate:,.0f} req/s", ""),
                (
                    "first visits (panel built)",
                    f"{cold:,.0f} req/s",
                    "4 clients, each member once: the database path",
                ),
                (
                    "widget state, saturated",
                    f"{widget_max.rate:,.0f} req/s",
                    f"ratio {widget_max.rate / bare_max.rate:.2f} of bare; target >= 1,000 req/s",
                ),
                (
                    "bare at 300 req/s",
                    f"p99 {bare_300.percentile(99):.1f} ms",
                    f"p50 {bare_300.percentile(50):.1f} ms",
                ),
                (
                    "widget at 300 req/s",
                    f"p99 {widget_300.percentile(99):.1f} ms",
                    f"p50 {widget_300.percentile(50):.1f} ms; target p99 <= 20 ms",
                ),
                ("errors", str(widget_max.errors + widget_300.errors), "non-2xx answers"),
            ],
        )
    finally:
        drop_postgres_database(admin, name)


if __name__ == "__main__":
    main()
