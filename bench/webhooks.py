"""Webhook intake and processing throughput, each beside a baseline from the same run.

    .venv/bin/python -m bench.webhooks [--seconds 10] [--orders 2000] [--intake-only]
                                       [--threads 1] [--async-commit]

1. Intake: signed custom-storefront deliveries to ``/webhooks/custom/<id>``
   (verify, inbox insert, rq enqueue), requests per second at saturation,
   beside a bare Flask endpoint answering 200, both under gunicorn with 2 sync
   workers, both warmed first and measured for ``--seconds``; the first
   ``--orders`` deliveries stay in the inbox for part 2. The bare endpoint
   receives the same signed deliveries (and, for comparison with earlier
   runs, an empty POST). Then p50/p99 latency at a
   fixed 200 requests/s (open loop), beside a probe timing a commit every
   20 ms on a side connection: a disk flush that stalls for a moment holds
   up every request answered in it, and the probe's slowest commit shows
   whether a tail outlier was the disk's.
2. End to end: the queued deliveries worked by 2 ``hub worker --simple``
   processes (orders recorded, members matched, points earned, events
   fanned out to every plugin's ``handle_event`` job), then by 2 simple
   workers on the inbound queue alone, beside the same job body run in a
   plain loop in one process.

``--async-commit`` is a diagnostic: the hub's connections commit without
waiting for the disk, which shows what the durable commit costs the intake.
Never run the hub so: an answered delivery could be lost in a database crash.

Runs on PostgreSQL and Redis on loopback only; makes and drops its own
database and Redis keys. Environment: HUB_BENCH_DATABASE_URL (a PostgreSQL
server), HUB_BENCH_REDIS_URL. Targets on a 2-core machine: intake at least
half the bare endpoint's throughput and p99 at most 50 ms at 200 requests/s;
at least 400 orders/s end to end.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from werkzeug.datastructures import Headers

from bench.loadgen import Gunicorn
from bench.loadgen import Result
from bench.loadgen import _request
from bench.loadgen import open_loop
from bench.loadgen import report
from hub.jobs import QUEUES
from hub.merchants.accounts import create_merchant
from hub.merchants.connections import create_connection
from hub.testing import create_postgres_database
from hub.testing import drop_postgres_database
from hub.testing import make_app
from hub.testing import migrate
from webhooks.inbox import drain_connection
from webhooks.intake import accept
from webhooks.testing import new_test_secret
from webhooks.testing import standard_headers

SECRET = new_test_secret("bench")
print = functools.partial(print, flush=True)


#: Each run's customers are its own, so every run has the same mix of new and returning
#: customers: a run reusing an earlier run's customers would create no members.
TAG_BLOCKS = {"sat": 1, "rate": 2, "inb": 3, "loop": 4}


#: A run's first orders come from new customers, who then come back: order n is placed by
#: customer n % RETURN_AFTER, so with 2,000 orders about one in three is a first order,
#: and a customer's next order comes 700 orders later, as a store's traffic interleaves
#: its customers (a worker's batch of 200 and the next worker's never share a customer).
RETURN_AFTER = 700

#: Requests each server answers before its measured run.
WARM_UP = 400
#: Deliveries signed for the intake's saturation run: more than --seconds can take.
SATURATION_CAP = 40_000


def order_body(n: int, tag: str) -> bytes:
    """A realistic order event: 3 lines, a customer of the run's own, new or returning."""
    customer = TAG_BLOCKS.get(tag, 0) * 10_000 + n % RETURN_AFTER
    return json.dumps(
        {
            "type": "order.paid",
            "timestamp": "2026-11-01T03:16:00Z",
            "data": {
                "external_id": f"{tag}-{n}",
                "number": f"#{n}",
                "currency": "VND",
                "subtotal": "450000",
                "total": "450000",
                "financial_status": "paid",
                "placed_at": "2026-11-01T10:15:00+07:00",
                "paid_at": "2026-11-01T10:16:00+07:00",
                "lines": [
                    {"sku": f"SKU-{i}", "title": "Cà phê", "quantity": 1, "price": "150000"}
                    for i in range(3)
                ],
                "customer": {
                    "external_id": f"c{customer}",
                    "phone": f"09{10_000_000 + customer}",
                    "name": f"Khách {customer}",
                },
            },
        }
    ).encode()


def signed(n: int, tag: str) -> tuple[bytes, dict[str, str]]:
    body = order_body(n, tag)
    return body, standard_headers(SECRET, f"{tag}-{n}", body)


def seed(url: str) -> int:
    app = make_app(url)
    hub = app.extensions["hub"]
    with hub.db.transaction() as session:
        merchant = create_merchant(session, "Bench shop")
        connection = create_connection(
            hub, session, merchant.id, connector="custom", secrets={"webhook_secret": SECRET}
        )
        connection_id = connection.id
    hub.db.dispose()
    return connection_id


def _post_loop(
    args: tuple[str, str, int, int, float, int, int, int],
) -> tuple[int, int, list[float], float, float]:
    url, tag, first, step, seconds, threads, limit, cycle = args
    counts, latencies, lock = [0, 0], [], threading.Lock()

    def stop(start: int) -> int:
        return min(limit, start + cycle * step) if cycle else limit

    # Signed before the clock starts: the client's HMAC and JSON work is not the server's.
    # With ``cycle`` each client signs that many deliveries and sends them round and round
    # (for the bare endpoint, which keeps nothing); without, each is sent once.
    prepared = {
        start: [signed(n, tag) for n in range(start, stop(start), step)] if tag else [(b"{}", {})]
        for start in range(first, first + threads)
    }

    def worker(start: int) -> None:
        mine = prepared[start]
        k = 0
        while time.time() < stop_at and (k < len(mine) or cycle):
            body, headers = mine[k % len(mine)]
            began = time.perf_counter()
            try:
                status = _request(url, headers, "POST", body)
            except OSError:
                status = 0
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                counts[0 if 200 <= status < 300 else 1] += 1
                latencies.append(elapsed)
            k += 1

    began_at = time.time()
    stop_at = began_at + seconds
    pool = [threading.Thread(target=worker, args=(first + i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return counts[0], counts[1], latencies, began_at, time.time()


def closed_loop_post(
    url: str,
    tag: str,
    *,
    seconds: float,
    processes: int = 2,
    threads: int = 8,
    limit: int,
    cycle: int = 0,
) -> Result:
    """POST as fast as answers come: ``processes`` x ``threads`` clients, bounded in time
    and count. Each client sends unique, freshly signed deliveries (``tag`` empty: ``{}``);
    with ``cycle``, its first ``cycle`` deliveries over and over, unbounded in count."""
    step = processes * threads
    jobs = [(url, tag, p * threads, step, seconds, threads, limit, cycle) for p in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.map(_post_loop, jobs)
    elapsed = max(p[4] for p in parts) - min(p[3] for p in parts)
    ok = sum(p[0] for p in parts)
    errors = sum(p[1] for p in parts)
    latencies = [x for p in parts for x in p[2]]
    return Result(ok, elapsed, errors, latencies)


@contextlib.contextmanager
def bench_engine(database_url: str) -> Iterator[Any]:
    """A short-lived SQLAlchemy engine on the benchmark's database, disposed after use."""
    from sqlalchemy import create_engine

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        yield engine
    finally:
        engine.dispose()


def environment(database_url: str) -> None:
    """Print what the machine is like right now: the figures depend on it."""
    from sqlalchemy import text

    timings = []
    with bench_engine(database_url) as engine, engine.connect() as connection:
        connection.execute(text("CREATE TABLE bench_probe (x int)"))
        connection.commit()
        for _ in range(100):
            began = time.perf_counter()
            connection.execute(text("INSERT INTO bench_probe VALUES (1)"))
            connection.commit()
            timings.append((time.perf_counter() - began) * 1000)
        connection.execute(text("DROP TABLE bench_probe"))
        connection.commit()
    timings.sort()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} cores, load average {load}; PostgreSQL insert+commit "
        f"p50 {timings[50]:.2f} ms, p99 {timings[98]:.2f} ms"
    )


class CommitProbe:
    """A process of its own that commits one row every 20 ms and times each commit.

    The intake answers only once its row is on disk, so a slow disk flush delays
    every request waiting on it. The probe shows, in the same run, how slow the
    slowest flushes were, so an outlier in the intake's tail can be told apart
    from the code's own cost. It runs in its own process so that the load
    generator's threads cannot delay its clock, and adds 50 small commits a
    second to the load.
    """

    INTERVAL = 0.02

    def __init__(self, database_url: str) -> None:
        self.url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.timings_ms: list[float] = []
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_probe, args=(self.url, self._stop, send))

    def __enter__(self) -> CommitProbe:
        self._process.start()
        ready = self._receive.recv()  # connected and table made: the clock may start
        if ready != "ready":
            self._process.join()
            raise RuntimeError(f"the commit probe failed: {ready}")
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        outcome = self._receive.recv()
        self._process.join()
        if isinstance(outcome, str):
            raise RuntimeError(f"the commit probe failed: {outcome}")
        self.timings_ms = outcome

    def slowest(self) -> float:
        return max(self.timings_ms, default=float("nan"))


def _probe(url: str, stop, send) -> None:
    """The commit probe's process: time a one-row commit every interval until ``stop``."""
    import psycopg

    timings: list[float] = []
    try:
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (x int)")
            connection.commit()
            send.send("ready")
            while not stop.wait(CommitProbe.INTERVAL):
                began = time.perf_counter()
                connection.execute("INSERT INTO bench_commit_probe VALUES (1)")
                connection.commit()
                timings.append((time.perf_counter() - began) * 1000)
    except Exception as exc:  # reported to the measuring process
        send.send(f"{type(exc).__name__}: {exc}")
    else:
        send.send(timings)


def without_commit_wait(database_url: str) -> str:
    """``database_url`` with ``synchronous_commit=off`` for every connection made from it."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url).update_query_dict({"options": "-c synchronous_commit=off"})
    return url.render_as_string(hide_password=False)


def drop_rows(database_url: str, tag: str, keep: int = 0) -> None:
    """Delete the inbox rows of ``tag``'s deliveries numbered ``keep`` and up."""
    from sqlalchemy import text

    with bench_engine(database_url) as engine, engine.begin() as connection:
        connection.execute(
            text(
                "DELETE FROM webhook_inbox WHERE delivery_id LIKE :tag"
                " AND CAST(substring(delivery_id FROM :start) AS integer) >= :keep"
            ),
            {"tag": f"{tag}-%", "start": len(tag) + 2, "keep": keep},
        )


def pending_rows(database_url: str) -> int:
    from sqlalchemy import text

    with bench_engine(database_url) as engine, engine.connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM webhook_inbox WHERE status = 'pending'")
        ).scalar_one()


INBOUND_ONLY = (
    "from hub.app import create_app; from hub.worker import make_worker; "
    "import gc; app = create_app(); gc.collect(); gc.freeze(); "
    "make_worker(app.extensions['hub'], ['inbound'], simple=True).work()"
)


def end_to_end(
    env: dict[str, str], database_url: str, workers: int, timeout: float, *, inbound_only: bool
) -> float:
    """Start ``workers`` simple workers on the queued jobs (every queue, or the inbound
    one alone); return inbox rows processed per second until the inbox is empty (or
    ``timeout``)."""
    hub_cli = os.path.join(os.path.dirname(sys.executable), "hub")
    # Not in burst mode: a burst worker that finds the queue empty at its start (one
    # drain is queued per connection) would quit before the drain queues a helper.
    command = (
        [sys.executable, "-c", INBOUND_ONLY]
        if inbound_only
        else [hub_cli, "worker", "--simple", "--no-cron"]
    )
    queues = ["inbound"] if inbound_only else list(QUEUES)
    total = pending_rows(database_url)
    began_at = time.time()
    started = time.monotonic()
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    drained = None
    try:
        while pending_rows(database_url) and time.monotonic() - started < timeout:
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        left = pending_rows(database_url)
        # Then until every queue worked (event fan-out included) is empty and idle.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if jobs_left(env, queues) == 0:
                drained = time.monotonic() - started
                break
            time.sleep(0.1)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    rest = f"every queue drained in {drained:.2f} s" if drained else "queues not drained in 60 s"
    span = processing_span(database_url, began_at)
    print(
        f"  {total - left} of {total} rows processed in {elapsed:.2f} s from the workers' start"
        f" ({(total - left) / elapsed:,.1f}/s), {span:.2f} s from the first row processed to the"
        f" last; {rest}"
    )
    return (total - left) / span if span else float("nan")


def jobs_left(env: dict[str, str], queues: list[str]) -> int:
    """Jobs queued or running on ``queues`` of the benchmark's Redis prefix."""
    import redis
    from rq import Queue

    connection = redis.Redis.from_url(env["HUB_REDIS_URL"])
    try:
        total = 0
        for name in queues:
            queue = Queue(f"{env['HUB_REDIS_PREFIX']}-{name}", connection=connection)
            total += queue.count + queue.started_job_registry.count
        return total
    finally:
        connection.close()


def processing_span(database_url: str, since: float) -> float:
    """Seconds between the first and the last inbox row processed after ``since``."""
    from datetime import UTC
    from datetime import datetime

    from sqlalchemy import text

    with bench_engine(database_url) as engine, engine.connect() as connection:
        first, last = connection.execute(
            text(
                "SELECT min(processed_at), max(processed_at) FROM webhook_inbox"
                " WHERE processed_at >= :since"
            ),
            {"since": datetime.fromtimestamp(since, UTC)},
        ).one()
    return (last - first).total_seconds() if first else 0.0


def fill_inbox(
    database_url: str, redis_url: str, prefix: str, connection_id: int, n: int, tag: str
) -> None:
    """Take ``n`` deliveries through the intake's path, which queues the connection's drain."""
    app = make_app(database_url, config={"HUB_REDIS_URL": redis_url, "HUB_REDIS_PREFIX": prefix})
    hub = app.extensions["hub"]
    with app.app_context():
        for i in range(n):
            body, headers = signed(i, tag)
            accept(hub, "custom", connection_id, Headers(headers), body)
    assert hub.jobs.settle(timeout=10)
    hub.db.dispose()


def plain_loop(database_url: str, redis_url: str, prefix: str, connection_id: int, n: int) -> float:
    """The job body (drain_connection) in this process, on rows taken through the intake's path."""
    app = make_app(database_url, config={"HUB_REDIS_URL": redis_url, "HUB_REDIS_PREFIX": prefix})
    hub = app.extensions["hub"]
    with app.app_context():
        for i in range(n):
            body, headers = signed(i, "loop")
            accept(hub, "custom", connection_id, Headers(headers), body)
    assert hub.jobs.settle(timeout=10)
    gc.collect()
    gc.freeze()  # as hub worker does once started
    with app.app_context():
        started = time.monotonic()
        assert drain_connection(connection_id) == n
        elapsed = time.monotonic() - started
    hub.db.dispose()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--orders", type=int, default=2000, help="saturation deliveries kept for processing"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker, for both servers"
    )
    parser.add_argument("--intake-only", action="store_true", help="skip the processing part")
    parser.add_argument("--loop", type=int, default=2000, help="orders in the plain loop")
    parser.add_argument(
        "--async-commit",
        action="store_true",
        help="the hub's connections with synchronous_commit=off: what the intake would do"
        " without waiting for the disk (a diagnostic, never a setting to run with: an"
        " answered delivery could be lost in a database crash)",
    )
    options = parser.parse_args()
    admin = os.environ.get("HUB_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("HUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    name = f"hub_bench_webhooks_{uuid.uuid4().hex[:6]}"
    database_url = create_postgres_database(admin, name)
    try:
        migrate(database_url)
        environment(database_url)
        connection_id = seed(database_url)
        hub_url = database_url
        if options.async_commit:
            hub_url = without_commit_wait(database_url)
            print("diagnostic run: the hub's connections do not wait for the disk at commit")
        env = {
            **os.environ,
            "HUB_DATABASE_URL": hub_url,
            "HUB_REDIS_URL": redis_url,
            "HUB_REDIS_PREFIX": prefix,
            "HUB_SECRET_KEY": "test-secret-key-not-for-production",
            "HUB_LOG_LEVEL": "WARNING",
        }
        path = f"/webhooks/custom/{connection_id}"
        with Gunicorn("bench.bare:app", threads=options.threads) as bare:
            # The baseline receives the same signed deliveries the intake does (each client
            # sends its first 200 round and round), so both carry the same HTTP traffic;
            # the empty POST of earlier runs is measured too, for comparison. Both servers
            # are warmed with the same number of requests first.
            closed_loop_post(bare.url + "/bare", "warm", seconds=5, limit=WARM_UP, cycle=200)
            base = closed_loop_post(
                bare.url + "/bare", "sat", seconds=options.seconds, limit=10**9, cycle=200
            )
            empty = closed_loop_post(
                bare.url + "/bare", "", seconds=options.seconds, limit=10**9, cycle=1
            )
        with Gunicorn("hub.wsgi:app", threads=options.threads, env=env) as hub_server:
            # Warm-up: each worker meets the connection, its database connection and the
            # prepared insert before the clock starts; the rows are deleted again.
            closed_loop_post(hub_server.url + path, "warm", seconds=5, limit=WARM_UP)
            drop_rows(database_url, "warm")
            # As long as the baseline, every delivery a new one; processing below then
            # sees the first --orders of them, as it did when the run was cut there.
            intake = closed_loop_post(
                hub_server.url + path, "sat", seconds=options.seconds, limit=SATURATION_CAP
            )
            drop_rows(database_url, "sat", keep=options.orders)
            rate_requests = [signed(i, "rate") for i in range(int(200 * options.seconds))]
            with CommitProbe(database_url) as probe:
                rated = open_loop(
                    hub_server.url + path,
                    lambda i: rate_requests[i][1],
                    rate=200,
                    seconds=options.seconds,
                    method="POST",
                    body=lambda i: rate_requests[i][0],
                )
        ratio = intake.rate / base.rate if base.rate else float("nan")
        report(
            f"Intake (gunicorn, 2 workers x {options.threads} threads, closed loop,"
            " 2 processes x 8 clients)",
            [
                (
                    "bare Flask POST, same deliveries",
                    f"{base.rate:,.0f} req/s",
                    f"p50 {base.percentile(50):.1f} ms",
                ),
                (
                    "bare Flask POST, empty body",
                    f"{empty.rate:,.0f} req/s",
                    f"p50 {empty.percentile(50):.1f} ms",
                ),
                (
                    "webhook intake",
                    f"{intake.rate:,.0f} req/s",
                    f"p50 {intake.percentile(50):.1f} ms, p99 {intake.percentile(99):.1f} ms,"
                    f" {intake.errors} errors",
                ),
                ("ratio to the same deliveries", f"{ratio:.2f}", "target >= 0.50"),
                ("ratio to the empty body", f"{intake.rate / empty.rate:.2f}", ""),
            ],
        )
        report(
            "Intake at 200 req/s (open loop)",
            [
                ("p50", f"{rated.percentile(50):.1f} ms", ""),
                ("p99", f"{rated.percentile(99):.1f} ms", "target <= 50 ms"),
                ("slowest", f"{max(rated.latencies_ms):.1f} ms", ""),
                ("over 50 ms", str(sum(ms > 50 for ms in rated.latencies_ms)), "requests"),
                ("errors", str(rated.errors), f"of {rated.requests + rated.errors}"),
                (
                    "slowest probe commit",
                    f"{probe.slowest():.1f} ms",
                    f"{len(probe.timings_ms)} commits on a side connection, one per 20 ms",
                ),
            ],
        )
        if options.intake_only:
            return
        print("\nEnd to end: 2 x hub worker --simple on every queue (event fan-out included)")
        e2e = end_to_end(env, database_url, workers=2, timeout=90, inbound_only=False)
        print("End to end: 2 simple workers on the inbound queue alone (fan-out jobs left queued)")
        fill_inbox(database_url, redis_url, prefix, connection_id, options.loop, "inb")
        inbound = end_to_end(env, database_url, workers=2, timeout=90, inbound_only=True)
        loop = plain_loop(hub_url, redis_url, prefix, connection_id, options.loop)
        report(
            "Processing",
            [
                ("2 rq workers, every queue", f"{e2e:,.1f} orders/s", "target >= 400 (*)"),
                ("2 rq workers, inbound only", f"{inbound:,.1f} orders/s", "(*)"),
                ("plain loop, 1 process", f"{loop:,.1f} orders/s", "same job body, no rq"),
                ("ratio, inbound only / loop", f"{inbound / loop:.2f}", ""),
            ],
        )
        print("  (*) from the first row processed to the last: the workers' start-up excluded")
    finally:
        import redis

        connection = redis.Redis.from_url(redis_url)
        for key in connection.scan_iter(match=f"*{prefix}*", count=1000):
            connection.delete(key)
        drop_postgres_database(admin, name)


if __name__ == "__main__":
    main()
