"""The embedded runner: jobs in the database table, run without Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import messages_of
from sqlalchemy import func
from sqlalchemy import select

from hub import PermanentError
from hub import RetryLater
from hub import job_table
from hub.members.directory import create_member
from hub.models import AuditRecord
from hub.models import JobRecord
from hub.models import PointEntry
from hub.points import ledger
from hub.runner import EmbeddedRunner

TESTS = Path(__file__).parent

ATTEMPTS: list[str] = []
RAN: list[int] = []
RAN_LOCK = threading.Lock()
BROKEN = {"on": True}


def fails_twice(text):
    """A job whose gateway answers 503 twice, then takes the call."""
    ATTEMPTS.append(text)
    if ATTEMPTS.count(text) <= 2:
        raise RetryLater("gateway answered 503")
    note(text)


def refused(text):
    """A job the gateway refuses for good while ``BROKEN`` says so."""
    ATTEMPTS.append(text)
    if BROKEN["on"]:
        raise PermanentError("gateway answered 400: bad template")
    note(text)


RELEASE = threading.Event()


def hold(text):
    """A long job: runs until the test releases it."""
    RELEASE.wait(120)
    note(text)


def count_run(number):
    with RAN_LOCK:
        RAN.append(number)
    time.sleep(0.001)


def note(text):
    """Leave a trace in the database: an audit record with ``text`` as its action."""
    from hub.core import current_hub

    with current_hub().db.transaction() as session:
        _record(session, text)


def _record(session, text):
    from hub.audit import record
    from hub.models import Merchant

    merchant_id = session.scalar(select(Merchant.id).order_by(Merchant.id).limit(1))
    record(session, merchant_id, actor="job", action=text, object_type="t", object_id=1)


def grant_once(marker):
    """Write the grant once, whoever runs it; the first run then hangs until it is killed."""
    from hub.core import current_hub

    with current_hub().db.transaction() as session:
        done = session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "granted")
        )
        if not done:
            _record(session, "granted")
    if not os.path.exists(marker):
        Path(marker).write_text("in flight")
        time.sleep(120)


def notes(hub, action):
    with hub.db.session() as session:
        return session.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == action)
        )


def job_row(hub, job_id) -> JobRecord:
    with hub.db.session() as session:
        return session.get(JobRecord, int(job_id))


@pytest.fixture
def table_hub(hub, merchant):
    """The test hub with jobs kept in the job table, as under ``hub serve`` without Redis."""
    ATTEMPTS.clear()
    RAN.clear()
    BROKEN["on"] = True
    hub.jobs.use_job_table()
    return hub


def test_an_enqueued_job_waits_in_the_table_until_a_runner_takes_it(table_hub):
    ref = table_hub.jobs.enqueue("test_job_runner.note", "waited")
    assert notes(table_hub, "waited") == 0
    assert job_row(table_hub, ref.id).status == "queued"

    ran = EmbeddedRunner(table_hub).run_due()

    assert ran == 1
    assert notes(table_hub, "waited") == 1
    assert job_row(table_hub, ref.id).status == "done"


def test_a_job_that_fails_twice_then_succeeds_is_retried_on_the_backoff_clock(table_hub):
    runner = EmbeddedRunner(table_hub)
    ref = table_hub.jobs.enqueue(
        "test_job_runner.fails_twice", "t", retry=table_hub.jobs.default_retry()
    )
    T0 = job_row(table_hub, ref.id).run_at

    assert runner.run_due(now=T0) == 1
    assert job_row(table_hub, ref.id).run_at == T0 + timedelta(seconds=10)
    assert runner.run_due(now=T0 + timedelta(seconds=9)) == 0
    assert runner.run_due(now=T0 + timedelta(seconds=10)) == 1
    second = job_row(table_hub, ref.id)
    assert (second.status, second.attempts) == ("queued", 2)
    assert second.run_at == T0 + timedelta(seconds=70)
    assert "503" in second.last_error
    assert runner.run_due(now=T0 + timedelta(seconds=69)) == 0
    assert runner.run_due(now=T0 + timedelta(seconds=70)) == 1

    done = job_row(table_hub, ref.id)
    assert (done.status, done.attempts) == ("done", 3)
    assert ATTEMPTS == ["t", "t", "t"]
    assert notes(table_hub, "t") == 1


def test_a_transient_failure_with_no_retry_left_fails_the_job(table_hub):
    runner = EmbeddedRunner(table_hub)
    ref = table_hub.jobs.enqueue(
        "test_job_runner.fails_twice", "short", retry=table_hub.jobs.default_retry(max_retries=1)
    )
    T0 = job_row(table_hub, ref.id).run_at

    runner.run_due(now=T0)
    runner.run_due(now=T0 + timedelta(hours=1))

    failed = job_row(table_hub, ref.id)
    assert (failed.status, failed.attempts) == ("failed", 2)
    assert failed.meta["permanent"] is False


def test_a_permanent_failure_fails_at_once_then_is_listed_and_replayed(table_hub, runner):
    worker = EmbeddedRunner(table_hub)
    ref = table_hub.jobs.enqueue(
        "test_job_runner.refused",
        "p",
        retry=table_hub.jobs.default_retry(),
        meta={"plugin": "sms"},
    )
    T0 = job_row(table_hub, ref.id).run_at
    worker.run_due(now=T0)
    failed = job_row(table_hub, ref.id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.meta["permanent"] is True

    listed = runner.invoke(args=["jobs", "failed"])
    assert listed.exit_code == 0, listed.output
    [line] = listed.output.splitlines()
    assert line.split("\t")[:4] == [ref.id, "default", "test_job_runner.refused", "sms"]
    assert "bad template" in line

    BROKEN["on"] = False
    replayed = runner.invoke(args=["jobs", "replay", ref.id])
    assert replayed.exit_code == 0, replayed.output
    # Replayed now (the CLI reads the real clock): due from then on, not before.
    again = job_row(table_hub, ref.id)
    assert (again.status, again.attempts) == ("queued", 0) and again.run_at >= T0
    assert worker.run_due(now=again.run_at) == 1
    assert job_row(table_hub, ref.id).status == "done"
    assert notes(table_hub, "p") == 1
    assert runner.invoke(args=["jobs", "failed"]).output == "no failed jobs\n"


def test_jobs_failed_says_so_when_there_are_none_and_replay_refuses_unknown_ids(runner):
    assert runner.invoke(args=["jobs", "failed"]).output == "no failed jobs\n"
    unknown = runner.invoke(args=["jobs", "replay", "12345"])
    assert unknown.exit_code == 1
    assert "no failed job 12345" in unknown.output


def test_a_keyed_job_is_enqueued_once_while_it_waits_and_again_once_ended(table_hub):
    first = table_hub.jobs.enqueue("test_job_runner.note", "k", job_id="same-work")
    again = table_hub.jobs.enqueue("test_job_runner.note", "k", job_id="same-work")
    assert first is not None and again is None

    EmbeddedRunner(table_hub).run_due()
    later = table_hub.jobs.enqueue("test_job_runner.note", "k", job_id="same-work")
    EmbeddedRunner(table_hub).run_due()

    assert later.id == first.id
    assert notes(table_hub, "k") == 2


def test_a_failed_keyed_job_enqueued_again_runs_again_with_its_retries_afresh(table_hub):
    runner = EmbeddedRunner(table_hub)
    first = table_hub.jobs.enqueue("test_job_runner.refused", "swept", job_id="delivery-1")
    runner.run_due()
    assert job_row(table_hub, first.id).status == "failed"

    BROKEN["on"] = False
    again = table_hub.jobs.enqueue("test_job_runner.refused", "swept", job_id="delivery-1")
    requeued = job_row(table_hub, again.id)
    assert (requeued.status, requeued.attempts, requeued.last_error) == ("queued", 0, None)
    runner.run_due()

    assert job_row(table_hub, first.id).status == "done"
    assert notes(table_hub, "swept") == 1


@pytest.mark.long(5)
def test_a_job_in_flight_when_its_process_is_killed_runs_again_once_in_effect(
    table_hub, database_url, tmp_path
):
    marker = tmp_path / "in-flight"
    ref = table_hub.jobs.enqueue("test_job_runner.grant_once", str(marker))
    script = (
        "from hub.testing import make_app\n"
        "from hub.runner import EmbeddedRunner\n"
        f"app = make_app({database_url!r}, instance_path={str(tmp_path)!r})\n"
        "EmbeddedRunner(app.extensions['hub']).run_due()\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the runner process never started the job"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    claimed = job_row(table_hub, ref.id)
    assert (claimed.status, claimed.attempts) == ("running", 1)
    assert notes(table_hub, "granted") == 1

    # After a restart the claim holds until its lease runs out, then the job runs again.
    restarted = EmbeddedRunner(table_hub)
    assert restarted.run_due(now=claimed.lease_until - timedelta(seconds=1)) == 0
    assert restarted.run_due(now=claimed.lease_until + timedelta(seconds=1)) == 1

    finished = job_row(table_hub, ref.id)
    assert (finished.status, finished.attempts) == ("done", 2)
    assert notes(table_hub, "granted") == 1


def test_a_job_whose_runner_keeps_dying_is_failed_after_its_grace(table_hub):
    ref = table_hub.jobs.enqueue("test_job_runner.note", "never")
    lease = timedelta(minutes=5)
    moment = job_row(table_hub, ref.id).run_at
    for _ in range(job_table.ABANDON_GRACE + 1):
        with table_hub.db.transaction() as session:
            assert job_table.claim(session, "dead-runner", now=moment, lease=lease) is not None
        moment += lease + timedelta(seconds=1)

    assert EmbeddedRunner(table_hub).run_due(now=moment) == 0

    failed = job_row(table_hub, ref.id)
    assert failed.status == "failed"
    assert "runner stopped" in failed.last_error
    assert notes(table_hub, "never") == 0


def test_two_claimers_at_once_never_run_one_job_twice(table_hub):
    table_hub.jobs.enqueue_many(
        [job_call("test_job_runner.count_run", number) for number in range(40)]
    )
    runners = [EmbeddedRunner(table_hub) for _ in range(2)]
    start = threading.Barrier(2)

    def drain(runner):
        start.wait()
        runner.run_due()

    threads = [threading.Thread(target=drain, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(RAN) == list(range(40))
    with table_hub.db.session() as session:
        rows = session.scalars(select(JobRecord)).all()
    assert {r.status for r in rows} == {"done"} and {r.attempts for r in rows} == {1}


def test_on_postgresql_a_claimer_skips_the_row_another_holds(table_hub):
    if table_hub.db.is_sqlite:
        pytest.skip("SQLite lets one claimer in at a time; SKIP LOCKED is PostgreSQL's")
    first = table_hub.jobs.enqueue("test_job_runner.note", "held")
    second = table_hub.jobs.enqueue("test_job_runner.note", "free")
    holder = EmbeddedRunner(table_hub)
    other = EmbeddedRunner(table_hub)

    with table_hub.db.transaction() as session:
        held = job_table.claim(
            session, holder.name, now=job_row(table_hub, second.id).run_at, lease=holder.lease
        )
        assert held.id == int(first.id)
        # The holder's transaction is still open: the other claimer passes its row by.
        assert other.run_one() is True
        assert notes(table_hub, "free") == 1
        assert job_row(table_hub, second.id).status == "done"
        session.rollback()

    assert job_row(table_hub, first.id).status == "queued"


def test_the_runner_threads_run_what_is_enqueued(table_hub):
    runner = EmbeddedRunner(table_hub)
    runner.start()
    try:
        ref = table_hub.jobs.enqueue("test_job_runner.note", "threaded")
        deadline = time.monotonic() + 60
        while job_row(table_hub, ref.id).status != "done" and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        runner.stop()
    assert notes(table_hub, "threaded") == 1


def test_a_long_job_holds_up_no_other_in_the_runner_threads(table_hub):
    RELEASE.clear()
    runner = EmbeddedRunner(table_hub, threads=2)
    runner.start()
    try:
        long = table_hub.jobs.enqueue("test_job_runner.hold", "long")
        short = table_hub.jobs.enqueue("test_job_runner.note", "short")
        deadline = time.monotonic() + 60
        while job_row(table_hub, short.id).status != "done" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert job_row(table_hub, long.id).status == "running"
        assert job_row(table_hub, short.id).status == "done"
    finally:
        RELEASE.set()
        runner.stop()
    assert job_row(table_hub, long.id).status == "done"


def job_call(func_name, *args):
    from hub import JobCall

    return JobCall(func_name, args)


class Clock:
    """The time as the test sets it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_schedule_fires_expiry_and_birthday_on_a_laptop_hub_with_the_clock_moved(
    table_hub, api, merchant, monkeypatch
):
    # Given a hub on the embedded default, its clock set to 10 March 2026, 03:00 UTC
    clock = Clock(datetime(2026, 3, 10, 3, 0, tzinfo=UTC))
    monkeypatch.setattr("hub.points.expiry.utcnow", clock)
    monkeypatch.setattr("hub.messaging.audiences.utcnow", clock)
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    # and birthday messages on, a member born on 12 March, points of another expiring on the 11th
    configure(api, kinds={"birthday": {"enabled": True, "options": {"send_hour": 0}}})
    born = add_member(api, "0912345678", birthday="1992-03-12")
    with table_hub.db.transaction() as session:
        saver = create_member(session, merchant.id, {"phone": "0987654321"})
        ledger.credit(
            session, saver, 100, kind="earn", key="spring",
            expires_at=datetime(2026, 3, 11, 12, 0, tzinfo=UTC), now=clock.now,
        )  # fmt: skip
        saver_id = saver.id
    runner = EmbeddedRunner(table_hub, clock=clock)
    table_hub.jobs.use_job_table(clock=clock)

    # When the schedule ticks today: every periodic job runs, with nothing due yet
    first = runner.tick()
    runner.run_due()
    assert {"periodic:points.expire:2026-03-10T00:05:00Z"} <= set(first)
    assert any(key.startswith("periodic:messages.birthday:2026-03-10T03") for key in first)
    assert expired_points(table_hub, saver_id) == 0
    assert messages_of(api, born["id"]) == []
    # and ticking again within the same periods enqueues nothing
    clock.now += timedelta(seconds=20)
    assert runner.tick() == []

    # When the clock moves two days on, to 12 March, 01:00 in Vietnam
    clock.now = datetime(2026, 3, 12, 1, 0, tzinfo=zone).astimezone(UTC)
    moved = runner.tick()
    runner.run_due()

    # Then the expiry wrote the points off and the birthday message went out, once
    assert "periodic:points.expire:2026-03-11T00:05:00Z" in moved
    assert expired_points(table_hub, saver_id) == 100
    [birthday] = messages_of(api, born["id"])
    assert birthday["kind"] == "birthday"
    clock.now += timedelta(hours=1)
    runner.tick()
    runner.run_due()
    assert len(messages_of(api, born["id"])) == 1
    assert expired_points(table_hub, saver_id) == 100


def expired_points(hub, member_id) -> int:
    with hub.db.session() as session:
        total = session.scalar(
            select(func.sum(PointEntry.points)).where(
                PointEntry.member_id == member_id, PointEntry.kind == "expire"
            )
        )
    return -int(total or 0)


def test_creating_a_tier_answers_at_once_and_the_review_runs_behind_it_with_progress(
    table_hub, api, other_api, merchant
):
    # Given three members with 600 points each
    with table_hub.db.transaction() as session:
        members = [
            create_member(session, merchant.id, {"phone": f"091234567{n}"}) for n in range(3)
        ]
        for member in members:
            ledger.credit(session, member, 600, kind="earn", key=f"seed:{member.id}")
    # When a tier of 500 points is created
    created = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 500, "basis": "points"})

    # Then the answer names the review job, which has not run yet
    assert created.status_code == 201, created.json
    job_id = created.json["review_job_id"]
    assert api.get(f"/api/v1/jobs/{job_id}").json["status"] == "queued"
    assert [api.get(f"/api/v1/members/{m.id}/tier").json["tier"] for m in members] == [None] * 3
    # and another merchant cannot see it
    assert other_api.get(f"/api/v1/jobs/{job_id}").status_code == 404

    # When the runner works the queue, the members are upgraded and the job shows its progress
    EmbeddedRunner(table_hub).run_due()
    job = api.get(f"/api/v1/jobs/{job_id}").json
    assert job["status"] == "done"
    assert job["progress"] == {"done": 3, "total": 3}
    tiers = [api.get(f"/api/v1/members/{m.id}/tier").json["tier"]["name"] for m in members]
    assert tiers == ["Vàng"] * 3


def test_an_unknown_job_answers_404_in_the_one_error_shape(api):
    for job_id in ("999999", "not-a-job", "9" * 30):
        response = api.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 404
        assert response.json["error"]["code"] == "job_not_found"


def test_without_the_runner_a_tier_review_still_runs_before_the_answer(api, hub, merchant):
    with hub.db.transaction() as session:
        member = create_member(session, merchant.id, {"phone": "0912345670"})
        ledger.credit(session, member, 600, kind="earn", key="seed")

    created = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 500, "basis": "points"})

    assert created.status_code == 201
    assert "review_job_id" not in created.json
    assert api.get(f"/api/v1/members/{member.id}/tier").json["tier"]["name"] == "Vàng"


def test_with_redis_the_tier_review_is_an_rq_job_whose_progress_the_api_shows(
    redis_app, merchant_factory
):
    from hub.testing import ApiClient
    from hub.testing import run_jobs

    hub = redis_app.extensions["hub"]
    merchant = merchant_factory(hub)
    api = ApiClient(redis_app.test_client(), merchant)
    with hub.db.transaction() as session:
        member = create_member(session, merchant.id, {"phone": "0912345670"})
        ledger.credit(session, member, 600, kind="earn", key="seed")

    created = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 500, "basis": "points"})
    job_id = created.json["review_job_id"]
    assert api.get(f"/api/v1/jobs/{job_id}").json["status"] == "queued"

    run_jobs(hub)

    job = api.get(f"/api/v1/jobs/{job_id}").json
    assert (job["status"], job["progress"]) == ("done", {"done": 1, "total": 1})
    assert api.get(f"/api/v1/members/{member.id}/tier").json["tier"]["name"] == "Vàng"


@pytest.mark.long(8)
def test_hub_serve_without_redis_answers_a_new_tier_at_once_and_reviews_behind_it(
    hub, merchant, database_url, tmp_path
):
    import socket

    import requests

    if not hub.db.is_sqlite:
        pytest.skip("the laptop default: hub serve on its SQLite file")
    with hub.db.transaction() as session:
        member = create_member(session, merchant.id, {"phone": "0912345670"})
        ledger.credit(session, member, 600, kind="earn", key="seed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_INSTANCE_PATH": str(tmp_path),
        "HUB_SECRET_KEY": "test-secret-key-not-for-production",
    }
    env.pop("HUB_REDIS_URL", None)
    hub_command = Path(sys.executable).with_name("hub")
    server = subprocess.Popen(
        [str(hub_command), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while server.poll() is None and time.monotonic() < deadline:
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        created = requests.post(
            f"{base}/api/v1/tiers",
            json={"name": "Vàng", "threshold": 500, "basis": "points"},
            headers=merchant.headers,
            timeout=30,
        )
        assert created.status_code == 201, created.text
        job_url = f"{base}/api/v1/jobs/{created.json()['review_job_id']}"
        while time.monotonic() < deadline:
            job = requests.get(job_url, headers=merchant.headers, timeout=30).json()
            if job["status"] in ("done", "failed") and expiry_periods(hub):
                break
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGINT)
        output = server.communicate(timeout=60)[0]
    assert "embedded job runner" in output
    assert (job["status"], job["progress"]) == ("done", {"done": 1, "total": 1})
    assert len(expiry_periods(hub)) == 1


def expiry_periods(hub):
    """The periods of the daily expiry the schedule has enqueued."""
    with hub.db.session() as session:
        return session.scalars(
            select(JobRecord.key).where(JobRecord.key.like("periodic:points.expire:%"))
        ).all()


def test_a_runner_that_lost_its_claim_leaves_the_new_claimers_outcome_alone(table_hub):
    ref = table_hub.jobs.enqueue("test_job_runner.note", "lost")
    start = job_row(table_hub, ref.id).run_at
    lease = timedelta(minutes=5)
    with table_hub.db.transaction() as session:
        job_table.claim(session, "slow-runner", now=start, lease=lease)
    with table_hub.db.transaction() as session:
        job_table.claim(session, "next-runner", now=start + lease * 2, lease=lease)

    with table_hub.db.transaction() as session:
        finished = job_table.finish(session, int(ref.id), "slow-runner", now=start + lease * 2)
        failed = job_table.record_failure(
            session, int(ref.id), "slow-runner", error="x", transient=False, now=start + lease * 2
        )

    assert (finished, failed) == (False, None)
    row = job_row(table_hub, ref.id)
    assert (row.status, row.claimed_by, row.attempts) == ("running", "next-runner", 2)


def test_jobs_replay_refuses_an_id_that_is_not_a_table_row(runner):
    unknown = runner.invoke(args=["jobs", "replay", "not-a-number"])
    assert unknown.exit_code == 1
    assert "no failed job not-a-number" in unknown.output


def test_with_redis_down_a_new_tier_is_still_created_without_a_review_job(
    database_url, tmp_path, merchant_factory
):
    import socket

    from hub.testing import ApiClient
    from hub.testing import empty_database
    from hub.testing import make_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    app = make_app(
        database_url,
        config={"HUB_REDIS_URL": f"redis://127.0.0.1:{closed}/0"},
        instance_path=tmp_path,
    )
    hub = app.extensions["hub"]
    try:
        api = ApiClient(app.test_client(), merchant_factory(hub))

        created = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 500})

        assert created.status_code == 201, created.json
        assert "review_job_id" not in created.json
        assert [t["name"] for t in api.get("/api/v1/tiers").json["data"]] == ["Vàng"]
    finally:
        if not hub.db.is_sqlite:
            empty_database(hub)
        hub.db.dispose()


@pytest.mark.long(6)
@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_hub_serve_stops_on_its_signal_even_started_with_sigint_ignored(
    hub, database_url, tmp_path, stop_with
):
    # Given hub serve started by a parent that ignores SIGINT (as some process managers
    # and test runners do; the child inherits it), with its embedded runner
    import socket

    import requests

    if not hub.db.is_sqlite:
        pytest.skip("the laptop default: hub serve on its SQLite file")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_INSTANCE_PATH": str(tmp_path),
        "HUB_SECRET_KEY": "test-secret-key-not-for-production",
    }
    env.pop("HUB_REDIS_URL", None)
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("hub")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 120
        while server.poll() is None and time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        # When Ctrl-C or a service manager's SIGTERM reaches it
        server.send_signal(stop_with)
        # Then it stops (a hang here would keep the port and the job threads forever)
        output = server.communicate(timeout=60)[0]
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert "embedded job runner" in output
    assert server.returncode is not None
