"""A broadcast campaign to 100,000 members on PostgreSQL and Redis with two workers.

    .venv/bin/python -m bench.campaigns [--members 100000] [--bare 20000] [--workers 2]

Seeds one merchant with ``--members`` members who agreed to SMS (server-side,
with generate_series), connects eSMS pointed at a loopback simulator of its
send API (one process of its own, answering ``CodeResult`` 100 as eSMS does),
and sends one campaign to all of them through ``hub worker`` processes on
Redis. Before that, the same number of client processes as workers post
``--bare`` eSMS requests straight to the simulator: its own throughput on
this machine, the baseline. Prints messages per second of both and the
ratio (campaign / bare; the goal is at least 0.5), and the peak resident
memory of the worker processes and their work horses, sampled while they
send, beside the peak during a first campaign to a tenth of the members:
it should stay flat, not grow with the audience.

The database server is the one in HUB_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test) and Redis the one in
HUB_BENCH_REDIS_URL (default redis://127.0.0.1:6379/0); the benchmark makes
its own database and Redis prefix and removes both at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC
from datetime import datetime
from pathlib import Path

import psycopg
import requests
from sqlalchemy.engine import make_url

from hub.simulators import LoopbackServer
from hub.testing import ApiClient
from hub.testing import create_postgres_database
from hub.testing import create_test_merchant
from hub.testing import daytime_zone
from hub.testing import drop_postgres_database
from hub.testing import forget_redis_prefix
from hub.testing import make_app
from hub.testing import migrate

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
SMS_PATH = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
#: One key for the benchmark's app and its workers: the connection's secrets are sealed with it.
SECRET = "bench-secret-key-not-for-production"

MEMBERS_SQL = """
INSERT INTO members (merchant_id, code, phone, name, search_name, tags, attributes,
                     points_balance, total_spent, status, created_at, updated_at)
SELECT %(merchant)s, %(prefix)s || i, '+849' || (%(first_phone)s + i)::text, 'Khách ' || i,
       'khach ' || i,
       %(tags)s::jsonb, '{}'::jsonb, 0, 0, 'active', %(now)s, %(now)s
FROM generate_series(1, %(count)s) AS i
"""
CONSENTS_SQL = """
INSERT INTO member_consents (merchant_id, member_id, channel, granted, source, changed_at)
SELECT merchant_id, id, 'sms', true, 'bench', %(now)s FROM members
WHERE merchant_id = %(merchant)s AND NOT EXISTS
      (SELECT 1 FROM member_consents c WHERE c.member_id = members.id)
"""


def esms_app(environ, start_response):
    """eSMS's send API as the connector meets it: every well-formed send is accepted."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    if environ["PATH_INFO"] != SMS_PATH or not body.get("Phone"):
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"CodeResult": "99"}']
    answer = json.dumps({"CodeResult": "100", "SMSID": uuid.uuid4().hex[:31]}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [answer]


def serve_simulator(port_queue) -> None:
    """Serve the simulator in this process until it is terminated."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = LoopbackServer(esms_app)
    port_queue.put(server.start())
    while True:
        time.sleep(3600)


def bare_client(url: str, count: int) -> None:
    session = requests.Session()
    for i in range(count):
        body = {"ApiKey": "k", "SecretKey": "s", "Phone": f"091{i:07d}", "Content": "x"}
        session.post(url + SMS_PATH, json=body, timeout=10).raise_for_status()


def bare_throughput(url: str, total: int, clients: int) -> float:
    """Messages per second the simulator takes from ``clients`` processes posting directly."""
    started = time.perf_counter()
    procs = [
        multiprocessing.Process(target=bare_client, args=(url, total // clients))
        for _ in range(clients)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    return total / (time.perf_counter() - started)


def resident_peak(pids: list[int]) -> int:
    """The highest VmHWM (kB) among the processes and their children."""
    peak = 0
    for pid in pids:
        family = [pid]
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if children.exists():
            family += [int(child) for child in children.read_text().split()]
        for member in family:
            try:
                for line in Path(f"/proc/{member}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except FileNotFoundError:
                continue
    return peak


def seed(raw_url: str, merchant: int, count: int, prefix: str, tag: str, first: int) -> None:
    """``count`` members tagged ``tag`` with phones from +849<first + 1>, who agreed to SMS."""
    with psycopg.connect(raw_url, autocommit=True) as connection:
        args = {
            "first_phone": first,
            "merchant": merchant,
            "count": count,
            "now": NOW,
            "prefix": prefix,
            "tags": json.dumps([tag]),
        }
        connection.execute(MEMBERS_SQL, args)
        connection.execute(CONSENTS_SQL, args)
        connection.execute("VACUUM ANALYZE")


def setup(app, sim_url: str) -> tuple[ApiClient, int]:
    """The merchant, its eSMS connection and messaging settings; returns the API client."""
    hub = app.extensions["hub"]
    merchant = create_test_merchant(hub, "Bench shop")
    api = ApiClient(app.test_client(), merchant)
    connection = api.post(
        "/api/v1/connections",
        json={
            "connector": "esms",
            "settings": {"brandname": "HOAMAI", "price": "770"},
            "secrets": {"api_key": "k", "secret_key": "s"},
        },
    ).json["id"]
    settings = {
        "channel_order": ["sms"],
        "connections": {"sms": connection},
        "quiet_hours": {"enabled": False},
        "caps": {"per_day": None, "per_week": None},
    }
    assert api.put("/api/v1/messaging/settings", json=settings).status_code == 200
    # Advertising SMS go out 07:00-22:00 where the merchant is; the workers read the real time
    assert api.patch("/api/v1/merchant", json={"timezone": daytime_zone()}).status_code == 200
    return api, merchant.id


def broadcast(
    app, api: ApiClient, tag: str, workers: list[subprocess.Popen]
) -> tuple[float, int, int]:
    """Send one campaign to the members tagged ``tag``; (seconds, messages sent, peak kB)."""
    segment = api.post(
        "/api/v1/segments",
        json={"name": tag, "conditions": {"all": [{"kind": "tags", "tags": [tag]}]}},
    ).json
    campaign = api.post(
        "/api/v1/campaigns",
        json={
            "name": f"Broadcast {tag}",
            "segment_id": segment["id"],
            "channel": "sms",
            "templates": {"vi": "{shop}: chao {first_name}, tuan le vang giam 20%!"},
        },
    ).json
    started = time.perf_counter()
    api.post(f"/api/v1/campaigns/{campaign['id']}/schedule")
    pids = [worker.pid for worker in workers]
    peak = 0
    while True:
        time.sleep(0.5)
        peak = max(peak, resident_peak(pids))
        state = api.get(f"/api/v1/campaigns/{campaign['id']}").json["state"]
        if state == "done":
            break
    seconds = time.perf_counter() - started
    figures = api.get(f"/api/v1/campaigns/{campaign['id']}/results").json
    if figures["sent"] < figures["targeted"]:
        reasons = {m["reason"] for m in api.get("/api/v1/messages").json["data"]}
        print(f"  not all sent: {figures}; reasons: {reasons}", flush=True)
    return seconds, figures["sent"], peak


def start_workers(count: int, env: dict[str, str], log) -> list[subprocess.Popen]:
    hub_cli = Path(sys.executable).parent / "hub"
    return [
        subprocess.Popen(
            [str(hub_cli), "worker", "--no-cron"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for _ in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--bare", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    # A stopped run (timeout, SIGTERM) still stops its workers and drops its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    admin = os.environ.get("HUB_BENCH_DATABASE_URL", DEFAULT_URL)
    redis_url = os.environ.get("HUB_BENCH_REDIS_URL", DEFAULT_REDIS)
    prefix = f"bench-campaigns-{os.getpid()}"
    name = f"hub_bench_campaigns_{os.getpid()}"
    url = create_postgres_database(admin, name)
    raw_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    ports = multiprocessing.Queue()
    simulator = multiprocessing.Process(target=serve_simulator, args=(ports,), daemon=True)
    simulator.start()
    sim_url = ports.get(timeout=10)
    workers: list[subprocess.Popen] = []
    instance = Path(tempfile.mkdtemp(prefix="bench-campaigns-"))
    (instance / "hub.cfg.py").write_text(
        f"HUB_PLUGINS_CONFIG = {{'esms': {{'base_url': {sim_url!r}}}}}\n"
        "HUB_ALLOW_PRIVATE_TARGETS = True\n"
    )
    config = {
        "HUB_REDIS_URL": redis_url,
        "HUB_REDIS_PREFIX": prefix,
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_SECRET_KEY": SECRET,
    }
    try:
        measure(args, url, raw_url, sim_url, instance, config, prefix, redis_url, workers)
    finally:
        stop_workers(workers)
        simulator.terminate()
        app_hub = make_app(url, config=config).extensions["hub"]
        forget_redis_prefix(app_hub.jobs.redis, prefix)
        app_hub.db.dispose()
        drop_postgres_database(admin, name)


def stop_workers(workers: list[subprocess.Popen]) -> None:
    """Ask every worker to stop, then kill the ones still running after 30 s."""
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)


def measure(args, url, raw_url, sim_url, instance, config, prefix, redis_url, workers) -> None:
    """Seed, measure the simulator alone, then two broadcasts through the workers."""
    migrate(url)
    app = make_app(url, config=config, instance_path=instance)
    api, merchant = setup(app, sim_url)
    seed(raw_url, merchant, args.members // 10, "W", "warmup", 10_000_000)
    seed(raw_url, merchant, args.members, "M", "all", 20_000_000)
    bare = bare_throughput(sim_url, args.bare, args.workers)
    print(f"simulator alone: {bare:.0f} messages/s ({args.workers} clients)", flush=True)
    env = {
        **os.environ,
        "HUB_DATABASE_URL": url,
        "HUB_REDIS_URL": redis_url,
        "HUB_REDIS_PREFIX": prefix,
        "HUB_SECRET_KEY": SECRET,
        "HUB_INSTANCE_PATH": str(instance),
        "HUB_LOG_LEVEL": "WARNING",
    }
    with (instance / "workers.log").open("w") as log:
        workers.extend(start_workers(args.workers, env, log))
        small = broadcast(app, api, "warmup", workers)
        large = broadcast(app, api, "all", workers)
    for label, (seconds, sent, peak) in (("tenth", small), ("full", large)):
        print(
            f"campaign to the {label} audience: {sent} sent in {seconds:.1f} s, "
            f"{sent / seconds:.0f} messages/s; worker peak {peak / 1024:.0f} MiB",
            flush=True,
        )
    print(f"ratio campaign / simulator alone: {large[1] / large[0] / bare:.2f} (goal >= 0.5)")
    print(f"worker peak memory, full / tenth audience: {large[2] / max(small[2], 1):.2f}")


if __name__ == "__main__":
    main()
