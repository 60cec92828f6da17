"""Jobs: inline without Redis; rq with retries, the failed registry and cron with Redis."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from hub import JobCall
from hub import PeriodicJob
from hub import PermanentError
from hub import RetryLater
from hub import emit
from hub import handles_events
from hub import hookimpl
from hub.models import AuditRecord
from hub.models import EventRecord
from hub.testing import make_app
from hub.testing import run_jobs

CALLS = []


def note(hub_merchant_id, text):
    """A job that leaves a trace in the database."""
    from hub.audit import record
    from hub.core import current_hub

    with current_hub().db.transaction() as session:
        record(session, hub_merchant_id, actor="job", action=text, object_type="t", object_id=1)


def flaky(text):
    CALLS.append(text)
    raise RetryLater("gateway answered 503")


def broken(text):
    CALLS.append(text)
    raise PermanentError("gateway answered 400: bad template")


def notes(hub):
    with hub.db.session() as session:
        return [r.action for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id))]


def test_without_redis_jobs_run_inline_at_once(hub, merchant):
    hub.jobs.enqueue(note, merchant.id, "inline")
    assert "inline" in notes(hub)


def test_inline_failures_are_recorded_not_raised(hub):
    CALLS.clear()
    hub.jobs.enqueue(broken, "x")
    assert CALLS == ["x"]
    assert "bad template" in hub.jobs.inline_failures[-1]["error"]


def test_with_redis_jobs_wait_for_a_worker(redis_app, merchant_factory):
    hub = redis_app.extensions["hub"]
    merchant = merchant_factory(hub)

    hub.jobs.enqueue("test_jobs.note", merchant.id, "queued")
    assert "queued" not in notes(hub)

    run_jobs(hub)
    assert "queued" in notes(hub)


def test_a_unique_job_id_is_enqueued_once(redis_app, merchant_factory):
    hub = redis_app.extensions["hub"]
    merchant = merchant_factory(hub)
    for _ in range(3):
        hub.jobs.enqueue(note, merchant.id, "once", job_id="same-work")
    run_jobs(hub)
    assert notes(hub).count("once") == 1


def test_a_transient_failure_is_retried_with_backoff(redis_app):
    hub = redis_app.extensions["hub"]
    job = hub.jobs.enqueue(flaky, "t", retry=hub.jobs.default_retry())

    run_jobs(hub)

    job.refresh()
    assert job.get_status() == "scheduled"
    assert job.retries_left == 4
    assert "503" in job.meta["last_error"]
    scheduled = hub.jobs.queue("default").scheduled_job_registry.get_job_ids()
    assert job.id in scheduled


def test_a_permanent_failure_skips_retries_and_lands_in_the_failed_registry(redis_app):
    hub = redis_app.extensions["hub"]
    job = hub.jobs.enqueue(broken, "p", retry=hub.jobs.default_retry(), meta={"plugin": "sms"})

    run_jobs(hub)

    failed = hub.jobs.queue("default").failed_job_registry
    assert job.id in failed.get_job_ids()
    job.refresh()
    assert job.meta["permanent"] is True
    assert job.meta["plugin"] == "sms"
    assert "bad template" in job.meta["last_error"]


def test_jobs_failed_and_replay_commands(redis_app):
    hub = redis_app.extensions["hub"]
    job = hub.jobs.enqueue(broken, "r", meta={"plugin": "sms"})
    run_jobs(hub)
    runner = redis_app.test_cli_runner()

    listed = runner.invoke(args=["jobs", "failed"])
    replayed = runner.invoke(args=["jobs", "replay", job.id])

    assert job.id in listed.output and "sms" in listed.output
    assert replayed.exit_code == 0, replayed.output
    assert job.id in hub.jobs.queue("default").get_job_ids()


class Deliverer:
    def __init__(self, name, fail=False):
        self.__name__ = name
        self.fail = fail
        self.seen = []

    @hookimpl
    def handle_event(self, event):
        self.seen.append(event.type)
        if self.fail:
            raise PermanentError("endpoint is gone")


@pytest.fixture
def deliverers():
    return [Deliverer("good-plugin"), Deliverer("bad-plugin", fail=True)]


@pytest.fixture
def hub_plugins(deliverers):
    return deliverers


def test_hook_handle_event_runs_one_job_per_plugin_and_a_failure_blocks_no_other(
    redis_app, deliverers
):
    hub = redis_app.extensions["hub"]
    client = redis_app.test_client()
    from hub.testing import create_test_merchant

    merchant = create_test_merchant(hub)
    client.post("/api/v1/members", json={"phone": "0912345678"}, headers=merchant.headers)

    run_jobs(hub)

    good, bad = deliverers
    assert good.seen == ["member.created"]
    assert bad.seen == ["member.created"]
    failed = hub.jobs.queue("events").failed_job_registry.get_job_ids()
    assert len(failed) == 1 and failed[0].endswith("-bad-plugin")


def test_hook_track_event_sees_committed_events_only(hub, api, recorded_events):
    api.post("/api/v1/members", json={"phone": "12345"})  # refused, rolled back
    api.post("/api/v1/members", json={"phone": "0912345678"})
    assert recorded_events.types() == ["member.created"]


def test_events_wait_for_the_sweep_when_redis_is_down(database_url, tmp_path, deliverers,
                                                       redis_url, redis_prefix):  # fmt: skip
    # given an app whose Redis cannot be reached
    down = make_app(
        database_url,
        config={"HUB_REDIS_URL": "redis://127.0.0.1:1/0", "HUB_REDIS_PREFIX": redis_prefix},
        plugins=deliverers,
        instance_path=tmp_path,
    )
    from hub.testing import create_test_merchant

    merchant = create_test_merchant(down.extensions["hub"])
    # when a change is accepted, the answer is still a success and the event is kept
    response = down.test_client().post(
        "/api/v1/members", json={"phone": "0912345678"}, headers=merchant.headers
    )
    assert response.status_code == 201
    with down.extensions["hub"].db.session() as session:
        event = session.scalars(select(EventRecord)).one()
        assert event.dispatched_at is None
    # then, with Redis back, the sweep dispatches it and the plugins get it once
    up = make_app(
        database_url,
        config={"HUB_REDIS_URL": redis_url, "HUB_REDIS_PREFIX": redis_prefix},
        plugins=deliverers,
        instance_path=tmp_path,
    )
    hub = up.extensions["hub"]
    from hub.events import sweep_undispatched

    with up.app_context():
        assert sweep_undispatched(older_than_seconds=0) == 1
        assert sweep_undispatched(older_than_seconds=0) == 0
    run_jobs(hub)
    assert deliverers[0].seen == ["member.created"]
    down.extensions["hub"].db.dispose()
    hub.db.dispose()


class Periodic:
    @hookimpl
    def register_periodic_jobs(self):
        return [PeriodicJob(name="t.note", func="test_jobs.periodic_note", interval=3600)]


def periodic_note():
    CALLS.append("periodic")


def test_hook_register_periodic_jobs_are_enqueued_by_rq_cron(
    database_url, redis_url, redis_prefix, tmp_path
):
    from hub.worker import make_cron

    app = make_app(
        database_url,
        config={"HUB_REDIS_URL": redis_url, "HUB_REDIS_PREFIX": redis_prefix},
        plugins=[Periodic()],
        instance_path=tmp_path,
    )
    hub = app.extensions["hub"]
    cron = make_cron(hub)
    names = {job.name for job in cron.get_jobs()}
    assert {f"{redis_prefix}-events.sweep", f"{redis_prefix}-t.note"} <= names

    CALLS.clear()
    cron.enqueue_jobs()
    run_jobs(hub)

    assert CALLS == ["periodic"]
    hub.db.dispose()


@pytest.mark.long(5)
def test_hub_worker_process_runs_queued_jobs(redis_app, merchant_factory, tmp_path):
    hub = redis_app.extensions["hub"]
    merchant = merchant_factory(hub)
    hub.jobs.enqueue("test_jobs.note", merchant.id, "by-worker")
    env = {
        **os.environ,
        "HUB_DATABASE_URL": hub.config["HUB_DATABASE_URL"],
        "HUB_REDIS_URL": hub.config["HUB_REDIS_URL"],
        "HUB_REDIS_PREFIX": hub.config["HUB_REDIS_PREFIX"],
        "HUB_SECRET_KEY": hub.config["HUB_SECRET_KEY"],
        "HUB_INSTANCE_PATH": str(tmp_path),
        "PYTHONPATH": os.path.dirname(__file__),
    }
    script = os.path.join(os.path.dirname(sys.executable), "hub")

    result = subprocess.run(
        [script, "worker", "--burst", "--no-cron"], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-2000:]
    assert "by-worker" in notes(hub)


class VoucherPusher:
    """Declares the one event type it acts on."""

    __name__ = "voucher-pusher"

    def __init__(self):
        self.seen = []

    @hookimpl
    @handles_events("voucher.issued", "member.*")
    def handle_event(self, event):
        self.seen.append(event.type)


def test_hook_handle_event_runs_only_for_the_types_a_plugin_declares(redis_app, deliverers):
    hub = redis_app.extensions["hub"]
    pusher = VoucherPusher()
    hub.pm.register(pusher, name="voucher-pusher")
    from hub.testing import create_test_merchant

    merchant = create_test_merchant(hub)
    with hub.db.transaction() as session:
        emit(session, "points.adjusted", merchant.id, {"member_id": 1})
        emit(session, "member.updated", merchant.id, {"member_id": 1})
        emit(session, "voucher.issued", merchant.id, {"member_id": 1})

    # No job at all for the event the plugin does not handle; one for each it does.
    job_ids = hub.jobs.queue("events").get_job_ids()
    assert sum(job_id.endswith("-voucher-pusher") for job_id in job_ids) == 2
    assert sum(job_id.endswith("-good-plugin") for job_id in job_ids) == 3
    run_jobs(hub)
    assert sorted(pusher.seen) == ["member.updated", "voucher.issued"]
    assert deliverers[0].seen == ["points.adjusted", "member.updated", "voucher.issued"]
    with hub.db.session() as session:
        assert all(r.dispatched_at for r in session.scalars(select(EventRecord)))


class Choosy:
    """Wants a job only for the events whose data says ``"push": true``."""

    __name__ = "choosy"

    def __init__(self, fail=False):
        self.seen = []
        self.asked = []
        self.fail = fail

    def choose(self, hub, events):
        self.asked.append(sorted(event.type for event in events))
        if self.fail:
            raise RuntimeError("settings store down")
        return [event.id for event in events if event.data.get("push")]

    @hookimpl
    @handles_events("member.*", "voucher.issued")
    def handle_event(self, event):
        self.seen.append(event.data["n"])


def registered_choosy(hub, *, fail=False):
    """A Choosy registered on the hub with its chooser, and a merchant to emit for."""
    from hub.testing import create_test_merchant

    choosy = Choosy(fail=fail)
    choosy.handle_event.__func__.hub_event_filter = choosy.choose
    hub.pm.register(choosy, name="choosy")
    return choosy, create_test_merchant(hub)


def test_wants_events_chooses_once_per_dispatch_which_events_get_a_job(redis_app, deliverers):
    hub = redis_app.extensions["hub"]
    choosy, merchant = registered_choosy(hub)
    with hub.db.transaction() as session:
        emit(session, "member.updated", merchant.id, {"n": 1, "push": True})
        emit(session, "member.updated", merchant.id, {"n": 2, "push": False})
        emit(session, "voucher.issued", merchant.id, {"n": 3, "push": True})
        emit(session, "points.adjusted", merchant.id, {"n": 4, "push": True})

    # Asked once, about the three events of types it handles; jobs for the two it chose.
    assert choosy.asked == [["member.updated", "member.updated", "voucher.issued"]]
    job_ids = hub.jobs.queue("events").get_job_ids()
    assert sum(job_id.endswith("-choosy") for job_id in job_ids) == 2
    run_jobs(hub)
    assert sorted(choosy.seen) == [1, 3]
    assert len(deliverers[0].seen) == 4  # other plugins are not affected


def test_a_failing_wants_events_gives_every_event_its_job(redis_app, deliverers):
    hub = redis_app.extensions["hub"]
    choosy, merchant = registered_choosy(hub, fail=True)
    with hub.db.transaction() as session:
        emit(session, "member.updated", merchant.id, {"n": 1, "push": True})
        emit(session, "member.updated", merchant.id, {"n": 2, "push": False})
    run_jobs(hub)
    assert sorted(choosy.seen) == [1, 2]


def test_handles_events_refuses_an_empty_declaration():
    with pytest.raises(ValueError, match="event type"):
        handles_events()


def test_every_in_repo_handle_event_plugin_declares_its_types_but_the_outbound_webhooks(
    app, deliverers
):
    hub = app.extensions["hub"]
    undeclared = {
        impl.plugin_name
        for impl in hub.pm.hook.handle_event.get_hookimpls()
        if getattr(impl.function, "hub_event_types", None) is None
    }
    assert undeclared - {d.__name__ for d in deliverers} == {"webhooks"}


def test_enqueue_many_keeps_job_ids_unique_with_enqueue(redis_app, merchant_factory):
    hub = redis_app.extensions["hub"]
    merchant = merchant_factory(hub)
    hub.jobs.enqueue("test_jobs.note", merchant.id, "first", job_id="shared")
    calls = [
        JobCall("test_jobs.note", (merchant.id, "first"), job_id="shared"),
        JobCall("test_jobs.note", (merchant.id, "second"), job_id="other", queue="events"),
    ]
    assert hub.jobs.enqueue_many(calls) == 1
    assert hub.jobs.enqueue_many(calls) == 0
    run_jobs(hub)
    assert [n for n in notes(hub) if n in ("first", "second")] == ["first", "second"]


def test_enqueue_many_runs_inline_without_redis(hub, merchant):
    hub.jobs.enqueue_many([JobCall("test_jobs.note", (merchant.id, "inline-many"))])
    assert "inline-many" in notes(hub)


def test_enqueue_many_loads_its_script_when_redis_does_not_hold_it(redis_app, merchant_factory):
    # A new Redis (or one restarted or flushed) holds no scripts: the first pipeline's
    # EVALSHA answers NOSCRIPT, and the job must still be queued, not left to the sweep.
    hub = redis_app.extensions["hub"]
    merchant = merchant_factory(hub)
    hub.jobs.redis.script_flush()
    calls = [JobCall("test_jobs.note", (merchant.id, "after-flush"), job_id="after-flush")]
    assert hub.jobs.enqueue_many(calls) == 1
    assert hub.jobs.enqueue_many(calls) == 0
    run_jobs(hub)
    assert "after-flush" in notes(hub)


def test_message_plugins_get_jobs_only_from_merchants_who_switched_the_kind_on(redis_app):
    from hub.messaging.settings import save_settings
    from hub.testing import create_test_merchant

    hub = redis_app.extensions["hub"]
    quiet, chatty = create_test_merchant(hub), create_test_merchant(hub)
    with hub.db.transaction() as session:
        save_settings(
            hub, session, chatty.id, {"kinds": {"points_earned": {"enabled": True}}}, actor="t"
        )
    with hub.db.transaction() as session:
        for merchant in (quiet, chatty):
            emit(session, "points.earned", merchant.id, {"member_id": 1, "points": 5})
            emit(session, "order.received", merchant.id, {"member_id": 1, "order_id": 1})

    jobs = [j for j in hub.jobs.queue("events").get_job_ids() if "-messages_" in j]
    # One job: the points message of the merchant who wants it; the thank-you is off for both.
    assert [j.rpartition("-")[2] for j in jobs] == ["messages_points"]


def test_the_signup_bonus_gets_jobs_only_where_the_program_gives_one(redis_app):
    from hub.members.directory import create_member
    from hub.models import PointEntry
    from hub.points.program import save_program
    from hub.testing import create_test_merchant

    hub = redis_app.extensions["hub"]
    plain, generous = create_test_merchant(hub), create_test_merchant(hub)
    with hub.db.transaction() as session:
        save_program(hub, session, generous.id, {"rules": {"signup": {"points": 50}}}, actor="t")
    with hub.db.transaction() as session:
        for n, merchant in enumerate((plain, generous)):
            create_member(session, merchant.id, {"phone": f"091200000{n}"}, source="api")
        create_member(session, generous.id, {"phone": "0912000009"}, source="import")

    jobs = [j for j in hub.jobs.queue("events").get_job_ids() if j.endswith("-signup_bonus")]
    assert len(jobs) == 1  # the generous merchant's member from the API; not the import
    run_jobs(hub)
    with hub.db.session() as session:
        bonuses = session.scalars(select(PointEntry).where(PointEntry.rule == "signup")).all()
        assert [(b.merchant_id, b.points) for b in bonuses] == [(generous.id, 50)]


def test_run_jobs_first_waits_for_work_a_thread_enqueues_a_moment_later(
    redis_app, merchant_factory
):
    import threading

    hub = redis_app.extensions["hub"]
    merchant = merchant_factory(hub)
    handed_over = threading.Event()

    def hand_over_later() -> None:
        threading.Timer(
            0.1,
            lambda: (hub.jobs.enqueue("test_jobs.note", merchant.id, "late"), handed_over.set()),
        ).start()

    def flush(timeout: float) -> bool:
        return handed_over.wait(timeout)

    hub.jobs.add_feeder(flush)
    hand_over_later()
    run_jobs(hub)  # without the wait, the queue would still be empty here
    assert "late" in notes(hub)

    stuck = threading.Event()
    hub.jobs.add_feeder(stuck.wait)
    assert hub.jobs.settle(0.05) is False
