"""A real ``hub worker`` killed with SIGKILL in the middle of a webhook job loses nothing.

A test-only plugin, installed into the worker the way any plugin is (an entry
point in the ``hub.plugins`` group, from a distribution on the worker's
PYTHONPATH), makes the first run of the job stall at a chosen point. The test
kills the worker and its work horse there, lets rq's abandoned-job handling
requeue the job, starts a second worker, and checks that the order was
recorded once and its points written once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from rq.job import Job
from sqlalchemy import select

from hub.jobs import QUEUES
from hub.models import Order
from hub.models import PointEntry
from hub.testing import create_test_merchant
from webhooks.models import InboxEntry
from webhooks.testing import LiveServer
from webhooks.testing import new_test_secret
from webhooks.testing import standard_headers

SECRET = new_test_secret("sigkill")

STALL_PLUGIN = '''
"""Stalls the first webhook job at one point, once, and says which process it is."""
import os
import pathlib
import time

from hub import hookimpl

MARK = pathlib.Path(os.environ["STALL_MARK"])
WHERE = os.environ["STALL_WHERE"]


def _stall():
    if not MARK.exists():
        MARK.write_text(str(os.getpid()))
        time.sleep(120)


@hookimpl(tryfirst=True)
def member_for_customer(customer):
    # Inside the job's transaction, before the order row is written.
    if WHERE == "mid-transaction":
        _stall()
    return None


@hookimpl
def track_event(event):
    # After the job's transaction committed, before rq marks the job finished.
    if WHERE == "after-commit" and event.type == "order.received":
        _stall()
'''


def install_stall_plugin(site: Path) -> None:
    """Write the plugin and a distribution that names it in ``hub.plugins``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "stall_test_plugin.py").write_text(textwrap.dedent(STALL_PLUGIN))
    dist = site / "stall_test_plugin-1.0.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: stall-test-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[hub.plugins]\nstall = stall_test_plugin\n")


def worker_env(database_url, redis_url, redis_prefix, site, mark, where):
    env = dict(os.environ)
    env.update(
        HUB_DATABASE_URL=database_url,
        HUB_REDIS_URL=redis_url,
        HUB_REDIS_PREFIX=redis_prefix,
        HUB_SECRET_KEY="test-secret-key-not-for-production",
        HUB_LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        STALL_MARK=str(mark),
        STALL_WHERE=where,
    )
    return env


def start_worker(env, log):
    hub_cli = Path(sys.executable).parent / "hub"
    return subprocess.Popen(
        [str(hub_cli), "worker", "--no-cron"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def state(hub):
    with hub.db.session() as session:
        orders = [o.external_id for o in session.scalars(select(Order))]
        entries = sorted((e.key, e.points) for e in session.scalars(select(PointEntry)))
        rows = [e.status for e in session.scalars(select(InboxEntry))]
    return orders, entries, rows


@pytest.mark.long(6)
@pytest.mark.parametrize("where", ["mid-transaction", "after-commit"])
def test_a_worker_killed_mid_job_leaves_the_order_recorded_once(
    redis_app, database_url, redis_url, redis_prefix, tmp_path, where
):
    hub = redis_app.extensions["hub"]
    site, mark = tmp_path / "site", tmp_path / "stalled-pid"
    install_stall_plugin(site)
    env = worker_env(database_url, redis_url, redis_prefix, site, mark, where)
    merchant = create_test_merchant(hub)
    connection_id = (
        redis_app.test_client()
        .post(
            "/api/v1/connections",
            json={"connector": "custom", "secrets": {"webhook_secret": SECRET}},
            headers=merchant.headers,
        )
        .json["id"]
    )
    event = {
        "type": "order.paid",
        "data": {
            "external_id": "K-1",
            "currency": "VND",
            "subtotal": "800000",
            "total": "800000",
            "financial_status": "paid",
            "placed_at": "2026-11-01T10:15:00+07:00",
            "paid_at": "2026-11-01T10:16:00+07:00",
            "customer": {"phone": "0912345678", "name": "Lan"},
        },
    }
    body = json.dumps(event).encode()
    with LiveServer(redis_app) as server:
        status, _ = server.post(
            f"/webhooks/custom/{connection_id}", body, standard_headers(SECRET, "k-1", body)
        )
    assert status == 200

    # Given a worker stalled inside the job, when it and its work horse are SIGKILLed,
    log = (tmp_path / "worker.log").open("w")
    first = start_worker(env, log)
    try:
        wait_for(mark.exists, 60, "the job to stall")
        horse = int(mark.read_text())
        # The worker first: killed after its work horse, it could still see the horse die
        # and move the job to the failed registry, which no SIGKILLed machine would do.
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # gone with its group already
            os.kill(horse, signal.SIGKILL)
    finally:
        stop(first)
    orders, _, rows = state(hub)
    assert rows == (["pending"] if where == "mid-transaction" else ["processed"])
    assert orders == ([] if where == "mid-transaction" else ["K-1"])

    # then rq's abandoned-job handling requeues the job once its heartbeat has lapsed
    # (cleanup as the next worker's maintenance would run it, with the clock moved past
    # the 90 s heartbeat window instead of waiting), and a second worker runs it. The dead
    # worker's scheduler locks would expire after 61 s; removing them stands in for that wait.
    queue = hub.jobs.queue("inbound")
    [job_id] = queue.started_job_registry.get_job_ids(cleanup=False)  # the connection's drain
    queue.started_job_registry.cleanup(timestamp=time.time() + 3600)
    for name in QUEUES:
        hub.jobs.redis.delete(f"rq:scheduler-lock:{hub.jobs.queue_name(name)}")
    second = start_worker(env, log)
    try:
        job = Job.fetch(job_id, connection=hub.jobs.redis)
        wait_for(lambda: job.get_status() == "finished", 90, "the requeued job to finish")
    finally:
        stop(second)
        log.close()

    orders, entries, rows = state(hub)
    assert orders == ["K-1"]
    assert rows == ["processed"]
    assert len({key for key, _ in entries}) == len(entries)
    earned = [key for key, _ in entries if ":earn:" in key]
    assert len(earned) == len(set(earned))
