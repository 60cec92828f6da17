"""Inbound webhooks over real HTTP, with real rq workers: nothing lost, nothing twice.

The app runs under a real WSGI server on 127.0.0.1; deliveries are signed per
Standard Webhooks for the custom storefront connector; jobs go to real rq
queues and are worked by rq's worker (``run_jobs``).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta

import pytest
from rq.job import Job
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub import RetryLater
from hub import hookimpl
from hub.db import utcnow
from hub.models import Order
from hub.models import PointEntry
from hub.testing import create_test_merchant
from hub.testing import make_app
from hub.testing import run_jobs
from webhooks.cli import webhooks_group
from webhooks.models import InboxEntry
from webhooks.sweep import run_sweep
from webhooks.testing import LiveServer
from webhooks.testing import new_test_secret
from webhooks.testing import standard_headers

SECRET = new_test_secret("inbound")


def order_event(external_id="W-1", *, status="paid", kind="order.created", name="Lan"):
    return {
        "type": kind,
        "timestamp": "2026-11-01T03:16:00Z",
        "data": {
            "external_id": external_id,
            "currency": "VND",
            "subtotal": "500000",
            "total": "500000",
            "financial_status": status,
            "placed_at": "2026-11-01T10:15:00+07:00",
            "paid_at": "2026-11-01T10:16:00+07:00" if status != "pending" else None,
            "customer": {"external_id": "C-1", "phone": "0912345678", "name": name},
        },
    }


def refund_event(external_id="R-1", order_external_id="W-1", amount="250000"):
    return {
        "type": "refund.created",
        "data": {
            "external_id": external_id,
            "order_external_id": order_external_id,
            "amount": amount,
            "currency": "VND",
            "created_at": "2026-11-02T09:00:00+07:00",
        },
    }


class Shop:
    """One merchant with a custom storefront connection, reached over real HTTP."""

    def __init__(self, app, server):
        self.app = app
        self.hub = app.extensions["hub"]
        self.server = server
        self.merchant = create_test_merchant(self.hub, "Hoa Mai")
        client = app.test_client()
        response = client.post(
            "/api/v1/connections",
            json={"connector": "custom", "secrets": {"webhook_secret": SECRET}},
            headers=self.merchant.headers,
        )
        assert response.status_code == 201, response.json
        self.connection_id = response.json["id"]

    def send(
        self, event, message_id, *, secret=SECRET, connection_id=None, headers=None, settle=True
    ):
        body = json.dumps(event).encode()
        signed = standard_headers(secret, message_id, body)
        signed.update(headers or {})
        return self.server.post(
            f"/webhooks/custom/{connection_id or self.connection_id}", body, signed, settle=settle
        )


@pytest.fixture
def shop(redis_app):
    with LiveServer(redis_app) as server:
        yield Shop(redis_app, server)


def orders(hub):
    with hub.db.session() as session:
        return [(o.external_id, o.financial_status) for o in session.scalars(select(Order))]


def inbox(hub):
    with hub.db.session() as session:
        return [
            (e.delivery_id, e.status)
            for e in session.scalars(select(InboxEntry).order_by(InboxEntry.id))
        ]


def ledger(hub):
    """Every ledger entry as (key, points): the same list means nothing accrued twice."""
    with hub.db.session() as session:
        return sorted((e.key, e.points) for e in session.scalars(select(PointEntry)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_forged_and_missing_signatures_answer_401_and_store_nothing(shop):
    body = json.dumps(order_event()).encode()
    forged = shop.send(order_event(), "msg_f", secret=new_test_secret("attacker"))
    missing = shop.server.post(f"/webhooks/custom/{shop.connection_id}", body, {})
    headers = standard_headers(SECRET, "msg_t", body)
    tampered = shop.server.post(
        f"/webhooks/custom/{shop.connection_id}", body.replace(b"500000", b"900000"), headers
    )

    assert [forged[0], missing[0], tampered[0]] == [401, 401, 401]
    assert forged[1]["error"]["code"] == "bad_signature"
    assert inbox(shop.hub) == []
    run_jobs(shop.hub)
    assert orders(shop.hub) == []


def test_unknown_foreign_or_disabled_connections_answer_404(shop):
    client = shop.app.test_client()
    api_connection = client.post(
        "/api/v1/connections", json={"connector": "api"}, headers=shop.merchant.headers
    ).json["id"]
    assert shop.send(order_event(), "m1", connection_id=999999)[0] == 404
    assert shop.send(order_event(), "m2", connection_id=api_connection)[0] == 404
    client.patch(
        f"/api/v1/connections/{shop.connection_id}",
        json={"status": "disabled"},
        headers=shop.merchant.headers,
    )
    status, answer = shop.send(order_event(), "m3")
    assert status == 404 and answer["error"]["code"] == "connection_not_found"
    assert inbox(shop.hub) == []


def test_a_body_over_the_size_limit_answers_413(shop):
    event = order_event()
    event["padding"] = "x" * (shop.hub.config["HUB_MAX_BODY_BYTES"] + 1)
    status, answer = shop.send(event, "big")
    assert status == 413 and answer["error"]["code"] == "body_too_large"
    assert inbox(shop.hub) == []


def test_the_same_delivery_three_times_in_a_row_is_recorded_once(shop):
    answers = [shop.send(order_event(), "msg_same") for _ in range(3)]

    assert [a[0] for a in answers] == [200, 200, 200]
    assert [a[1]["duplicate"] for a in answers] == [False, True, True]
    run_jobs(shop.hub)
    assert orders(shop.hub) == [("W-1", "paid")]
    assert inbox(shop.hub) == [("msg_same", "processed")]
    after_one = ledger(shop.hub)

    # The platform retries again after processing: still nothing new.
    assert shop.send(order_event(), "msg_same")[0] == 200
    run_jobs(shop.hub)
    assert ledger(shop.hub) == after_one


def test_the_same_delivery_three_times_at_once_is_recorded_once(shop):
    start = threading.Barrier(3)
    answers = []

    def deliver():
        start.wait()
        answers.append(shop.send(order_event(), "msg_race"))

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a[0] for a in answers) == [200, 200, 200]
    assert sorted(a[1]["duplicate"] for a in answers) == [False, True, True]
    run_jobs(shop.hub)
    assert orders(shop.hub) == [("W-1", "paid")]
    assert inbox(shop.hub) == [("msg_race", "processed")]


def test_the_same_order_in_three_different_deliveries_is_recorded_once(shop):
    """Shopify-style duplicates: one event, three webhook ids (three subscriptions)."""
    for message_id in ("sub-a", "sub-b", "sub-c"):
        assert shop.send(order_event(), message_id)[0] == 200
    run_jobs(shop.hub)

    assert orders(shop.hub) == [("W-1", "paid")]
    entries = ledger(shop.hub)
    assert len({key for key, _ in entries}) == len(entries)
    assert [s for _, s in inbox(shop.hub)] == ["processed"] * 3


def test_out_of_order_deliveries_end_with_each_order_and_refund_once(shop):
    # The refund and the paid update overtake the order's creation.
    assert shop.send(refund_event("R-1", "W-1"), "d3")[0] == 200
    assert shop.send(order_event("W-1", status="paid", kind="order.paid"), "d2")[0] == 200
    assert shop.send(order_event("W-1", status="pending", kind="order.created"), "d1")[0] == 200
    run_jobs(shop.hub)

    with shop.hub.db.session() as session:
        [order] = session.scalars(select(Order)).all()
        assert order.external_id == "W-1" and order.paid_at is not None
    assert [s for _, s in inbox(shop.hub)] == ["processed"] * 3
    settled = ledger(shop.hub)

    # Every delivery again, in yet another order: nothing changes.
    for event, message_id in (
        (order_event("W-1", status="pending"), "d1"),
        (refund_event("R-1", "W-1"), "d3"),
        (order_event("W-1", status="paid", kind="order.paid"), "d2"),
    ):
        shop.send(event, message_id)
    run_jobs(shop.hub)
    assert ledger(shop.hub) == settled
    assert len(orders(shop.hub)) == 1


def test_a_topic_the_connector_does_not_handle_is_stored_and_ignored(shop):
    assert shop.send({"type": "cart.abandoned", "data": {"id": 1}}, "cart-1")[0] == 200
    run_jobs(shop.hub)
    assert inbox(shop.hub) == [("cart-1", "ignored")]


def test_redis_down_at_intake_answers_200_and_the_sweep_recovers(
    database_url, redis_url, redis_prefix, redis_app, tmp_path
):
    # The intake app's Redis is a closed port; the shared Redis server is left alone.
    down = make_app(
        database_url,
        config={
            "HUB_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "HUB_REDIS_PREFIX": redis_prefix,
        },
        instance_path=tmp_path / "down",
    )
    with LiveServer(down) as server:
        shop = Shop(down, server)
        answers = [shop.send(order_event(f"W-{n}"), f"msg-{n}") for n in range(3)]
    assert [a[0] for a in answers] == [200, 200, 200]
    assert [s for _, s in inbox(shop.hub)] == ["pending"] * 3

    # The sweep runs where Redis works: it enqueues the rows and a worker applies them.
    hub = redis_app.extensions["hub"]
    with redis_app.app_context():
        assert run_sweep(older_than_seconds=0)["inbox"] == 3
        assert run_sweep(older_than_seconds=0)["inbox"] == 0  # queued already: not twice
    run_jobs(hub)
    assert sorted(orders(hub)) == [("W-0", "paid"), ("W-1", "paid"), ("W-2", "paid")]
    assert [s for _, s in inbox(hub)] == ["processed"] * 3
    with redis_app.app_context():
        assert run_sweep(older_than_seconds=0)["inbox"] == 0
    down.extensions["hub"].db.dispose()


def test_a_permanent_failure_lands_in_the_failed_registry_with_the_connector(shop):
    event = order_event()
    event["data"]["financial_status"] = "maybe"
    assert shop.send(event, "bad-1")[0] == 200
    run_jobs(shop.hub)

    [(_, status)] = inbox(shop.hub)
    assert status == "failed"
    registry = shop.hub.jobs.queue("inbound").failed_job_registry
    [job_id] = registry.get_job_ids()
    job = Job.fetch(job_id, connection=shop.hub.jobs.redis)
    assert job.meta["connector"] == "custom"
    assert job.meta["permanent"] is True
    assert "financial status" in job.meta["last_error"]


class IdentityFailing:
    """Fails the first ``times`` lookups of a member with ``error``; later ones go on as usual."""

    def __init__(self, name, error, times=1):
        self.__name__ = name
        self.error = error
        self.times = times

    @hookimpl(tryfirst=True)
    def member_for_customer(self):
        if self.times > 0:
            self.times -= 1
            raise self.error
        return None


def test_a_transient_failure_is_retried_and_an_overdue_retry_is_swept(shop):
    busy = RetryLater("identity store busy")  # a database hiccup: transient
    # It fails in the drain's batch, then alone, then in the row's own job, which retries.
    flaky = IdentityFailing("flaky-identity", busy, times=3)
    shop.hub.pm.register(flaky, name="flaky-identity")
    assert shop.send(order_event(), "flaky-1")[0] == 200
    before = utcnow()
    run_jobs(shop.hub)
    after = utcnow()
    assert inbox(shop.hub) == [("flaky-1", "pending")]
    queue = shop.hub.jobs.queue("inbound")
    [job_id] = queue.scheduled_job_registry.get_job_ids()
    # The retry is due 10 s after the failure, which happened while the jobs ran
    # (rq keeps scheduled times to the second).
    due = queue.scheduled_job_registry.get_scheduled_time(job_id)
    assert before + timedelta(seconds=9) <= due <= after + timedelta(seconds=11)

    # Given no scheduler picked the retry up two minutes after it was due,
    shop.hub.jobs.redis.zadd(queue.scheduled_job_registry.key, {job_id: time.time() - 120})
    # when the sweep runs, the retry is enqueued and runs once.
    with shop.app.app_context():
        run_sweep()
    assert queue.scheduled_job_registry.get_job_ids() == []
    run_jobs(shop.hub)
    assert inbox(shop.hub) == [("flaky-1", "processed")]
    assert orders(shop.hub) == [("W-1", "paid")]


def test_failed_deliveries_are_listed_and_replayed_from_the_command_line(shop):
    event = order_event()
    event["data"]["financial_status"] = "maybe"
    shop.send(event, "bad-1")
    shop.send(order_event("W-2"), "good-2")
    run_jobs(shop.hub)
    runner = shop.app.test_cli_runner()

    listed = runner.invoke(webhooks_group, ["failed"])
    assert listed.exit_code == 0, listed.output
    [line] = listed.output.splitlines()
    assert "custom" in line and "bad-1" in line and "unknown financial status" in line

    # Replaying a processed delivery changes nothing; replaying the failed one fails again.
    before = ledger(shop.hub)
    with shop.hub.db.session() as session:
        ids = dict(session.execute(select(InboxEntry.delivery_id, InboxEntry.id)).all())
    for delivery_id in ("good-2", "bad-1"):
        replayed = runner.invoke(webhooks_group, ["replay", str(ids[delivery_id])])
        assert replayed.exit_code == 0 and "queued" in replayed.output
    run_jobs(shop.hub)
    assert ledger(shop.hub) == before
    assert dict(inbox(shop.hub)) == {"bad-1": "failed", "good-2": "processed"}
    assert runner.invoke(webhooks_group, ["replay", "999999"]).exit_code != 0


def test_a_connection_disabled_by_another_process_refuses_the_next_delivery(
    shop, database_url, tmp_path
):
    # Given a delivery accepted, so the intake process remembers the connection,
    assert shop.send(order_event("W-1"), "before")[0] == 200
    # when another process (here another app on the same database) disables it,
    admin = make_app(database_url, instance_path=tmp_path / "admin")
    response = admin.test_client().patch(
        f"/api/v1/connections/{shop.connection_id}",
        json={"status": "disabled"},
        headers=shop.merchant.headers,
    )
    assert response.status_code == 200, response.json
    admin.extensions["hub"].db.dispose()
    # then the next delivery is refused and not stored.
    status, answer = shop.send(order_event("W-2"), "after")
    assert status == 404 and answer["error"]["code"] == "connection_not_found"
    assert inbox(shop.hub) == [("before", "pending")]


def test_a_rotated_secret_signs_at_once_and_a_dropped_one_no_longer_does(
    shop, database_url, tmp_path
):
    assert shop.send(order_event("W-1"), "old-1")[0] == 200
    new = new_test_secret("rotated")
    admin = make_app(database_url, instance_path=tmp_path / "admin")
    response = admin.test_client().patch(
        f"/api/v1/connections/{shop.connection_id}",
        json={"secrets": {"webhook_secret": new}},
        headers=shop.merchant.headers,
    )
    assert response.status_code == 200, response.json
    admin.extensions["hub"].db.dispose()

    assert shop.send(order_event("W-2"), "old-2")[0] == 401
    assert shop.send(order_event("W-3"), "new-1", secret=new)[0] == 200
    assert shop.send(order_event("W-4"), "old-3")[0] == 401
    assert [d for d, _ in inbox(shop.hub)] == ["old-1", "new-1"]


def test_a_duplicate_of_a_remembered_connection_is_answered_as_a_duplicate(shop):
    answers = [shop.send(order_event("W-1"), "twice") for _ in range(2)]
    assert [(a[0], a[1]["duplicate"]) for a in answers] == [(200, False), (200, True)]
    assert inbox(shop.hub) == [("twice", "pending")]


def test_a_lost_unique_race_is_rerun_at_once_not_after_the_backoff(shop):
    # Loses one unique race, as a job creating the member a concurrent job just created.
    lost = IntegrityError("INSERT INTO members ...", {}, Exception("duplicate key"))
    shop.hub.pm.register(IdentityFailing("racing-identity", lost), name="racing-identity")
    assert shop.send(order_event(), "race-1")[0] == 200
    run_jobs(shop.hub)

    assert inbox(shop.hub) == [("race-1", "processed")]
    assert shop.hub.jobs.queue("inbound").scheduled_job_registry.get_job_ids() == []
    assert orders(shop.hub) == [("W-1", "paid")]


def test_a_batch_that_lost_a_unique_race_is_applied_again_as_a_batch(shop, monkeypatch):
    # As two drains creating the member of one customer whose orders fell in both batches.
    from webhooks import inbox as drain

    lost = IntegrityError("INSERT INTO members ...", {}, Exception("duplicate key"))
    shop.hub.pm.register(IdentityFailing("racing-batch", lost), name="racing-batch")
    alone = []
    monkeypatch.setattr(drain, "_alone", lambda hub, entry_id: alone.append(entry_id))
    for n in range(3):
        assert shop.send(order_event(f"W-{n}"), f"race-{n}")[0] == 200
    run_jobs(shop.hub)

    assert alone == []  # no row went on alone
    assert inbox(shop.hub) == [(f"race-{n}", "processed") for n in range(3)]
    assert sorted(orders(shop.hub)) == [(f"W-{n}", "paid") for n in range(3)]


def test_deliveries_queue_one_drain_per_connection_which_takes_them_all(shop):
    queue = shop.hub.jobs.queue("inbound")
    for n in range(3):
        assert shop.send(order_event(f"W-{n}"), f"d-{n}")[0] == 200
    assert queue.count == 1  # one drain queued for the three
    run_jobs(shop.hub)
    assert sorted(inbox(shop.hub)) == [("d-0", "processed"), ("d-1", "processed"),
                                       ("d-2", "processed")]  # fmt: skip
    assert sorted(orders(shop.hub)) == [("W-0", "paid"), ("W-1", "paid"), ("W-2", "paid")]
    # A drain has run: the next delivery queues another.
    assert shop.send(order_event("W-3"), "d-3")[0] == 200
    assert queue.count == 1
    run_jobs(shop.hub)
    assert ("d-3", "processed") in inbox(shop.hub)


def test_a_bad_row_in_a_drained_batch_fails_alone_and_the_rest_are_recorded(shop):
    bad = order_event("W-bad")
    bad["data"]["financial_status"] = "maybe"
    shop.send(order_event("W-1"), "ok-1")
    shop.send(bad, "bad-1")
    shop.send(order_event("W-2"), "ok-2")
    run_jobs(shop.hub)
    assert dict(inbox(shop.hub)) == {"ok-1": "processed", "bad-1": "failed", "ok-2": "processed"}
    assert sorted(orders(shop.hub)) == [("W-1", "paid"), ("W-2", "paid")]
    failed = shop.hub.jobs.queue("inbound").failed_job_registry
    [job_id] = failed.get_job_ids()
    job = shop.hub.jobs.queue("inbound").fetch_job(job_id)
    assert job.meta["connector"] == "custom"
    assert "unknown financial status" in job.meta["last_error"]


def test_a_drain_finding_full_batches_queues_a_second_one_to_share_the_backlog(shop, monkeypatch):
    import webhooks.inbox

    monkeypatch.setattr(webhooks.inbox, "DRAIN_BATCH", 2)
    for n in range(5):
        shop.send(order_event(f"W-{n}"), f"b-{n}")
    queue = shop.hub.jobs.queue("inbound")
    [queued] = queue.get_jobs()
    queue.remove(queued)  # run here instead, as a worker would
    with shop.app.app_context():
        assert webhooks.inbox.drain_connection(shop.connection_id) == 5
    # Its batches came full, so it asked for help: one more drain waits for a worker.
    [helper] = queue.get_jobs()
    assert helper.func_name == "hub.jobs.run"
    assert helper.args[:2] == ("webhooks.inbox.drain_connection", shop.connection_id)
    run_jobs(shop.hub)  # the helper finds nothing left and changes nothing
    assert sorted(orders(shop.hub)) == [(f"W-{n}", "paid") for n in range(5)]
    assert {status for _, status in inbox(shop.hub)} == {"processed"}


def test_the_sweep_gives_a_row_no_drain_finished_in_time_a_job_of_its_own(shop, monkeypatch):
    import webhooks.sweep

    assert shop.send(order_event("W-1"), "slow-1")[0] == 200
    queue = shop.hub.jobs.queue("inbound")
    [drain] = queue.get_jobs()
    queue.remove(drain)  # the drain is lost (its worker died before taking it)
    shop.hub.jobs.redis.delete(f"{shop.hub.jobs.prefix}:inbox-drain:{shop.connection_id}")
    with shop.app.app_context():
        assert run_sweep(older_than_seconds=0)["inbox"] == 1  # a new drain
        [again] = queue.get_jobs()
        assert again.args[0] == "webhooks.inbox.drain_connection"
        queue.remove(again)  # lost too; the row has now waited past the drains' patience
        monkeypatch.setattr(webhooks.sweep, "DRAIN_PATIENCE_SECONDS", 0)
        assert run_sweep(older_than_seconds=0)["inbox"] == 1
    [own] = queue.get_jobs()
    assert own.args[0] == "webhooks.inbox.process_entry"
    run_jobs(shop.hub)
    assert inbox(shop.hub) == [("slow-1", "processed")]
    assert orders(shop.hub) == [("W-1", "paid")]


def test_a_delivery_older_than_the_last_applied_leaves_the_order_as_it_is(shop):
    newer = order_event(status="refunded", kind="order.updated")
    newer["data"]["updated_at"] = "2026-11-01T12:00:00+07:00"
    older = order_event(status="paid", kind="order.paid")
    older["data"]["updated_at"] = "2026-11-01T10:16:00+07:00"
    assert shop.send(newer, "late-2")[0] == 200
    run_jobs(shop.hub)
    assert shop.send(older, "late-1")[0] == 200  # the platform's retry of an earlier event
    run_jobs(shop.hub)
    assert orders(shop.hub) == [("W-1", "refunded")]
    assert {status for _, status in inbox(shop.hub)} == {"processed"}


def test_a_delivery_on_an_intake_connection_the_server_dropped_is_still_stored(shop):
    from sqlalchemy import text

    if shop.hub.db.is_sqlite:
        pytest.skip("the intake keeps driver connections of its own on PostgreSQL only")
    assert shop.send(order_event("W-1"), "before")[0] == 200  # the connection remembered
    with shop.hub.db.driver_connection() as connection:
        ours = connection.execute("SELECT pg_backend_pid()").fetchone()[0]
    with shop.hub.db.session() as session:  # as a server restart would
        session.execute(text("SELECT pg_terminate_backend(:p)"), {"p": ours})

    status, answer = shop.send(order_event("W-2"), "after")

    assert (status, answer["duplicate"]) == (200, False)
    assert inbox(shop.hub) == [("before", "pending"), ("after", "pending")]
