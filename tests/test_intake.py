"""The intake's one path and its drain thread, over real HTTP with Redis.

Every delivery to a webhook URL is answered by the intake in front of Flask
(``webhooks.intake``): a connection's own URL and the connector's app-wide
URL alike. The connection is read once per process and remembered; any
change to it sends the next delivery to a fresh read. Drains are queued by a
thread of the process a few milliseconds after the answer (``webhooks.drains``).
"""

from __future__ import annotations

import http.client
import json
from contextlib import contextmanager

import flask
import pytest
from flask import request_started
from sqlalchemy import event
from sqlalchemy import select
from sqlalchemy import text
from test_webhooks import SECRET
from test_webhooks import Shop
from test_webhooks import inbox
from test_webhooks import order_event
from test_webhooks import orders

from hub.testing import run_jobs
from webhooks.drains import drain_mark
from webhooks.drains import drain_requests
from webhooks.testing import LiveServer
from webhooks.testing import standard_headers

#: Seconds a flush may wait before the test calls the drain thread hung: a guard against a
#: test that never ends, not a measure of speed (nothing asserts how soon drains are queued).
HANG_GUARD = 120


@pytest.fixture
def shop(redis_app):
    with LiveServer(redis_app) as server:
        yield Shop(redis_app, server)


class SeenByFlask:
    """Counts the requests that reach Flask's request handling."""

    def __init__(self, app):
        self.paths: list[str] = []
        self.app = app

    def __enter__(self):
        request_started.connect(self._seen, self.app)
        return self

    def __exit__(self, *exc):
        request_started.disconnect(self._seen, self.app)

    def _seen(self, sender, **extra):
        self.paths.append(flask.request.path)


class ConnectionReads:
    """Counts the statements of the hub's engine that read the connections table."""

    def __init__(self, hub):
        self.engine = hub.db.engine
        self.count = 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM connections" in statement:
            self.count += 1


def test_a_connection_is_read_once_and_no_delivery_reaches_flask(shop):
    with SeenByFlask(shop.app) as flask_saw, ConnectionReads(shop.hub) as reads:
        answers = [shop.send(order_event(f"W-{n}"), f"fast-{n}") for n in range(3)]
    assert answers == [(200, {"received": True, "duplicate": False})] * 3
    assert flask_saw.paths == []
    assert reads.count == 1  # the first delivery read it; the others used what it read
    assert inbox(shop.hub) == [(f"fast-{n}", "pending") for n in range(3)]
    run_jobs(shop.hub)
    assert sorted(orders(shop.hub)) == [("W-0", "paid"), ("W-1", "paid"), ("W-2", "paid")]


def test_duplicates_refusals_and_odd_bodies_are_answered_by_the_same_path(shop):
    assert shop.send(order_event("W-1"), "first")[0] == 200  # the connection is remembered
    big = order_event("W-2")
    big["padding"] = "x" * (shop.hub.config["HUB_MAX_BODY_BYTES"] + 1)
    with SeenByFlask(shop.app) as flask_saw:
        duplicate = shop.send(order_event("W-1"), "first")
        forged = shop.send(order_event("W-3"), "forged", secret=SECRET[:-4] + "AAAA")
        too_big = shop.send(big, "big")
        chunked = _post_chunked(shop, order_event("W-4"), "chunked")
    assert duplicate == (200, {"received": True, "duplicate": True})
    assert forged[0] == 401 and forged[1]["error"]["code"] == "bad_signature"
    assert too_big[0] == 413 and too_big[1]["error"]["code"] == "body_too_large"
    assert chunked == (200, {"received": True, "duplicate": False})
    assert flask_saw.paths == []
    assert inbox(shop.hub) == [("first", "pending"), ("chunked", "pending")]


@contextmanager
def verify_watched(shop, watch):
    """The custom connector, with ``watch(connection, headers)`` run before its verify."""
    custom = shop.hub.connector("custom")

    class Watched(type(custom)):
        def verify_webhook(self, hub, connection, headers, body):
            watch(connection, headers)
            return super().verify_webhook(hub, connection, headers, body)

    shop.hub.connectors["custom"] = Watched()
    try:
        yield
    finally:
        shop.hub.connectors["custom"] = custom


def test_the_intake_hooks_run_with_an_app_context_and_their_arguments(shop):
    seen = []

    def note(connection, headers):
        seen.append((flask.has_app_context(), flask.has_request_context(), headers["webhook-id"]))

    with verify_watched(shop, note):
        assert shop.send(order_event("W-1"), "first")[0] == 200
    assert seen == [(True, False, "first")]


def test_a_hook_that_fails_answers_500_in_the_error_shape_and_stores_nothing(shop):
    def reads_the_request(connection, headers):
        assert flask.request.headers["webhook-id"]  # no request here: raises

    with verify_watched(shop, reads_the_request):
        status, answer = shop.send(order_event("W-1"), "first")
    assert (status, answer["error"]["code"]) == (500, "internal_error")
    assert inbox(shop.hub) == []


def test_a_connection_changing_under_every_attempt_answers_503_and_stores_nothing(shop):
    assert shop.send(order_event("W-1"), "first")[0] == 200  # remembered
    calls = []

    def rename(connection, headers):
        # as an admin editing the connection at that very moment would
        calls.append(connection.id)
        with shop.hub.db.transaction() as session:
            session.execute(
                text("UPDATE connections SET name = :name WHERE id = :id"),
                {"name": f"Renamed {len(calls)}", "id": shop.connection_id},
            )

    with verify_watched(shop, rename):
        status, answer = shop.send(order_event("W-2"), "second")
    assert (status, answer["error"]["code"]) == (503, "connection_changing")
    assert len(calls) == 3  # the remembered connection, then read afresh twice
    assert inbox(shop.hub) == [("first", "pending")]
    assert shop.send(order_event("W-2"), "second")[0] == 200  # sent again, once it holds still


def test_an_unknown_connector_or_connection_answers_404_without_reading_the_database(shop):
    with ConnectionReads(shop.hub) as reads:
        unknown = shop.server.post("/webhooks/nosuch/1", b"{}", {})
        app_wide = shop.server.post("/webhooks/nosuch", b"{}", {})
        too_big = shop.server.post(f"/webhooks/custom/{2**63}", b"{}", {})
    for status, answer in (unknown, app_wide):
        assert (status, answer["error"]["code"]) == (404, "unknown_connector")
    assert (too_big[0], too_big[1]["error"]["code"]) == (404, "connection_not_found")
    assert reads.count == 0


def test_a_body_shorter_than_its_content_length_or_a_bad_length_answers_400(shop):
    client = shop.app.test_client()
    path = f"/webhooks/custom/{shop.connection_id}"
    body = json.dumps(order_event()).encode()
    headers = standard_headers(SECRET, "short", body)
    short = client.post(path, data=body, headers=headers,
                        environ_overrides={"CONTENT_LENGTH": str(len(body) + 10)})  # fmt: skip
    bad = client.post(path, data=body, headers=headers,
                      environ_overrides={"CONTENT_LENGTH": "12ab"})  # fmt: skip
    assert short.status_code == bad.status_code == 400
    assert set(short.json["error"]) == set(bad.json["error"]) == {"code", "message", "details"}
    assert inbox(shop.hub) == []


def test_other_methods_and_paths_under_webhooks_go_on_to_flask(shop):
    with SeenByFlask(shop.app) as flask_saw:
        status, answer = shop.server.post(f"/webhooks/custom/{shop.connection_id}/more", b"", {})
    assert (status, answer["error"]["code"]) == (404, "not_found")
    assert flask_saw.paths == [f"/webhooks/custom/{shop.connection_id}/more"]


def test_the_drain_is_queued_by_the_thread_shortly_after_the_answer(shop):
    queue = shop.hub.jobs.queue("inbound")
    path = f"/webhooks/custom/{shop.connection_id}"
    for n in range(5):
        body = json.dumps(order_event(f"W-{n}")).encode()
        status, _ = shop.server.post(path, body, standard_headers(SECRET, f"t-{n}", body),
                                     settle=False)  # fmt: skip
        assert status == 200
    # The request thread only asked; the drain thread queues (flush hurries it and waits).
    assert drain_requests(shop.hub).flush(timeout=HANG_GUARD)
    assert queue.count == 1  # one drain for the five deliveries
    run_jobs(shop.hub)
    assert {status for _, status in inbox(shop.hub)} == {"processed"}
    assert len(orders(shop.hub)) == 5


def test_deliveries_to_several_connections_queue_a_drain_for_each(redis_app):
    with LiveServer(redis_app) as server:
        shops = [Shop(redis_app, server)]
        shops += [_another_connection(shops[0]) for _ in range(2)]
        requests = drain_requests(redis_app.extensions["hub"])
        requests.gather_seconds = 0.2  # all six fall into one batch
        try:
            for n, each in enumerate(shops * 2):
                assert each.send(order_event(f"W-{n}"), f"m-{n}", settle=False)[0] == 200
            assert requests.flush(timeout=HANG_GUARD)
        finally:
            requests.gather_seconds = 0.02
    hub = redis_app.extensions["hub"]
    drains = hub.jobs.queue("inbound").get_jobs()
    assert sorted(job.args[1] for job in drains) == sorted(s.connection_id for s in shops)
    run_jobs(hub)
    assert len(orders(hub)) == 6


def test_the_drain_thread_waits_longer_while_the_drain_it_asked_for_is_still_queued(shop):
    from webhooks.drains import DrainRequests

    hub = shop.hub
    requests = DrainRequests(hub, gather_seconds=0.02, queued_gather_seconds=0.1)
    queue = hub.jobs.queue("inbound")
    assert requests.next_wait() == 0.02
    requests._send({shop.connection_id: "custom"})  # no drain queued: one is
    assert queue.count == 1 and requests.next_wait() == 0.02
    requests._send({shop.connection_id: "custom"})  # that drain has not started yet
    assert queue.count == 1 and requests.next_wait() == 0.1
    hub.jobs.redis.delete(drain_mark(hub, shop.connection_id))  # as a starting drain does
    requests._send({shop.connection_id: "custom"})
    assert queue.count == 2 and requests.next_wait() == 0.02


def _another_connection(first: Shop) -> Shop:
    """A second connection of the same merchant, sending through the same server."""
    other = object.__new__(Shop)
    other.__dict__.update(first.__dict__)
    response = first.app.test_client().post(
        "/api/v1/connections",
        json={"connector": "custom", "secrets": {"webhook_secret": SECRET}},
        headers=first.merchant.headers,
    )
    assert response.status_code == 201, response.json
    other.connection_id = response.json["id"]
    return other


def _post_chunked(to: Shop, event: dict, message_id: str) -> tuple[int, dict]:
    body = json.dumps(event).encode()
    connection = http.client.HTTPConnection("127.0.0.1", to.server.port, timeout=30)
    try:
        connection.request(
            "POST",
            f"/webhooks/custom/{to.connection_id}",
            body=iter([body[:10], body[10:]]),
            headers=standard_headers(SECRET, message_id, body),
            encode_chunked=True,
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    to.server.settle()
    return response.status, answer


def _ask_in_child(requests, connection_id):
    requests.ask(connection_id, "custom")
    raise SystemExit(0 if requests.flush(timeout=HANG_GUARD) else 1)


def test_a_forked_process_queues_drains_with_a_thread_of_its_own(shop):
    import multiprocessing

    requests = drain_requests(shop.hub)
    requests.ask(shop.connection_id, "custom")  # the parent's thread is running
    assert requests.flush(timeout=HANG_GUARD)
    shop.hub.jobs.queue("inbound").empty()
    shop.hub.jobs.redis.delete(drain_mark(shop.hub, shop.connection_id))

    child = multiprocessing.get_context("fork").Process(
        target=_ask_in_child, args=(requests, shop.connection_id)
    )
    child.start()
    child.join(30)

    assert child.exitcode == 0
    [drain] = shop.hub.jobs.queue("inbound").get_jobs()
    assert drain.args[1] == shop.connection_id


def test_any_change_to_a_remembered_connection_has_the_next_delivery_read_it_afresh(shop):
    from sqlalchemy import text

    assert shop.send(order_event("W-1"), "first")[0] == 200  # remembered
    with shop.hub.db.transaction() as session:  # a column the signature does not use
        session.execute(
            text("UPDATE connections SET name = 'Renamed' WHERE id = :id"),
            {"id": shop.connection_id},
        )
    with ConnectionReads(shop.hub) as reads:
        assert shop.send(order_event("W-2"), "second")[1]["duplicate"] is False
        assert shop.send(order_event("W-3"), "third")[1]["duplicate"] is False
    assert reads.count == 1  # then remembered again
    assert [d for d, _ in inbox(shop.hub)] == ["first", "second", "third"]


def test_a_remembered_connection_is_read_afresh_after_an_hour(shop, monkeypatch):
    import webhooks.snapshots

    assert shop.send(order_event("W-1"), "first")[0] == 200
    monkeypatch.setattr(webhooks.snapshots, "MAX_AGE_SECONDS", 0)
    with ConnectionReads(shop.hub) as reads:
        assert shop.send(order_event("W-2"), "second")[0] == 200
    assert reads.count == 1


def test_without_redis_the_job_table_gets_the_drains_and_the_runner_works_them(hub, api, client):
    from hub.runner import EmbeddedRunner

    hub.jobs.use_job_table()
    created = api.post(
        "/api/v1/connections",
        json={"connector": "custom", "secrets": {"webhook_secret": SECRET}},
    )
    path = f"/webhooks/custom/{created.json['id']}"
    for n in range(3):
        body = json.dumps(order_event(f"T-{n}")).encode()
        response = client.post(path, data=body, headers=standard_headers(SECRET, f"t-{n}", body))
        assert response.json == {"received": True, "duplicate": False}
    assert {status for _, status in inbox(hub)} == {"pending"}

    EmbeddedRunner(hub).run_due()

    assert {status for _, status in inbox(hub)} == {"processed"}
    assert sorted(orders(hub)) == [("T-0", "paid"), ("T-1", "paid"), ("T-2", "paid")]


EXITING = """
import sys
import webhooks.drains
from hub.testing import make_app
from webhooks.drains import drain_requests

webhooks.drains.EXIT_FLUSH_SECONDS = 120  # a guard against a hang, not a bound: load varies

app = make_app(sys.argv[1], config={"HUB_REDIS_URL": sys.argv[2], "HUB_REDIS_PREFIX": sys.argv[3]})
requests = drain_requests(app.extensions["hub"])
requests.gather_seconds = 3600  # far longer than the process lives
requests.ask(int(sys.argv[4]), "custom")
sys.exit(0)  # as gunicorn's worker leaves on SIGTERM or max_requests
"""


def test_a_process_leaving_normally_queues_the_drains_it_still_holds(
    shop, database_url, redis_url, redis_prefix
):
    import subprocess
    import sys

    # A process that waited out its hour of gathering would be stopped by the timeout.
    done = subprocess.run(
        [sys.executable, "-c", EXITING, database_url, redis_url, redis_prefix,
         str(shop.connection_id)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [drain] = shop.hub.jobs.queue("inbound").get_jobs()
    assert drain.args[1] == shop.connection_id


def test_the_intake_takes_no_lock_on_the_connection_or_merchant_row(shop):
    from sqlalchemy import text

    if shop.hub.db.is_sqlite:
        pytest.skip("row locks and MultiXacts are PostgreSQL's")

    def lockers() -> tuple[str, str]:
        """The last transactions that locked (or updated) the two rows."""
        with shop.hub.db.session() as session:
            row = session.execute(
                text(
                    "SELECT c.xmax::text, m.xmax::text FROM connections c"
                    " JOIN merchants m ON m.id = c.merchant_id WHERE c.id = :id"
                ),
                {"id": shop.connection_id},
            ).one()
        return tuple(row)

    before = lockers()
    for n in range(3):  # the first reads the connection, the others use what it read
        assert shop.send(order_event(f"L-{n}"), f"l-{n}", settle=False)[0] == 200
    # A foreign key from the inbox would leave each insert's FOR KEY SHARE locker here.
    assert lockers() == before
    assert len(inbox(shop.hub)) == 3


def test_a_connection_deleted_by_hand_takes_no_delivery_and_its_waiting_rows_fail(shop):
    from sqlalchemy import text

    from webhooks.models import InboxEntry

    hub = shop.hub
    assert shop.send(order_event("G-1"), "g-1", settle=False)[0] == 200  # now remembered
    with hub.db.transaction() as session:
        session.execute(text("DELETE FROM connections WHERE id = :id"), {"id": shop.connection_id})
    status, _ = shop.send(order_event("G-2"), "g-2", settle=False)
    assert status == 404  # the insert found no connection, and neither did the fresh read
    assert [delivery for delivery, _ in inbox(hub)] == ["g-1"]

    run_jobs(hub)
    with hub.db.session() as session:
        row = session.scalars(select(InboxEntry)).one()
    assert row.status == "failed"
    assert f"connection {shop.connection_id}" in row.error
    assert orders(hub) == []


def test_a_drain_finds_its_connections_waiting_rows_without_reading_other_stores_backlog(shop):
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql

    from webhooks.inbox import waiting_rows

    hub = shop.hub
    if hub.db.is_sqlite:
        pytest.skip("the plan checked is PostgreSQL's")
    with hub.db.transaction() as session:
        merchant_id = session.execute(
            text("SELECT merchant_id FROM connections WHERE id = :id"), {"id": shop.connection_id}
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO webhook_inbox (merchant_id, connection_id, connector, delivery_id,"
                " topic, headers, body, status, attempts, received_at)"
                " SELECT :merchant, CASE WHEN n % 500 = 0 THEN :connection ELSE :other END,"
                " 'custom', 'old-' || n, 'order.paid', '{}', '\\x7b7d', 'pending', 0, now()"
                " FROM generate_series(1, 5000) AS n"
            ),
            # Ten waiting rows of this store behind 4,990 of another's (a backlog).
            {"merchant": merchant_id, "connection": shop.connection_id, "other": 10**9},
        )
        session.execute(text("ANALYZE webhook_inbox"))
    query = waiting_rows(shop.connection_id)
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with hub.db.session() as session:
        plan = "\n".join(session.execute(text("EXPLAIN " + sql)).scalars())
        rows = session.scalars(query).all()
    assert "ix_webhook_inbox_waiting" in plan, plan
    assert [row.delivery_id for row in rows] == [f"old-{n}" for n in range(500, 5001, 500)]
