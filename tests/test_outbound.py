"""Outbound webhooks: merchants' endpoints get every matching event, signed, retried, guarded.

Receivers are small HTTP servers on 127.0.0.1 (``HUB_WEBHOOKS_ALLOW_LOOPBACK``
lets the guard reach them); jobs run on real rq queues. Retries scheduled in
the future are released at once by ``release_scheduled``, which records how
far ahead rq had scheduled them, so the Svix schedule is checked without
waiting hours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from rq.job import Job
from sqlalchemy import func
from sqlalchemy import select

from hub.db import utcnow
from hub.models import AuditRecord
from hub.models import EventRecord
from hub.testing import create_test_merchant
from hub.testing import make_app
from hub.testing import run_jobs
from webhooks.cli import webhooks_group
from webhooks.models import WebhookAttempt
from webhooks.models import WebhookDelivery
from webhooks.models import WebhookEndpoint
from webhooks.testing import Answer
from webhooks.testing import Receiver
from webhooks.testing import self_signed_certificate


@pytest.fixture
def tls(tmp_path):
    """A certificate for localhost, and the hub told to trust it."""
    return self_signed_certificate(tmp_path)


@pytest.fixture
def app(database_url, redis_url, redis_prefix, tmp_path, tls):
    config = {
        "HUB_REDIS_URL": redis_url,
        "HUB_REDIS_PREFIX": redis_prefix,
        "HUB_WEBHOOKS_ALLOW_LOOPBACK": True,
        "HUB_PLUGINS_CONFIG": {"webhooks": {"timeout_seconds": 1, "ca_bundle": tls[0]}},
    }
    app = make_app(database_url, config=config, instance_path=tmp_path)
    yield app
    hub = app.extensions["hub"]
    if not hub.db.is_sqlite:
        from hub.testing import empty_database

        empty_database(hub)
    hub.db.dispose()


@pytest.fixture
def shop(app, client):
    merchant = create_test_merchant(app.extensions["hub"], "Hoa Mai")

    class Shop:
        hub = app.extensions["hub"]

        def call(self, method, path, **kwargs):
            return client.open(path, method=method, headers=merchant.headers, **kwargs)

        def endpoint(self, url, event_types=("member.created",)):
            response = self.call(
                "POST",
                "/api/v1/webhook-endpoints",
                json={"url": url, "event_types": list(event_types), "description": "CRM"},
            )
            assert response.status_code == 201, response.json
            return response.json

        def member(self, phone="0912345678"):
            response = self.call("POST", "/api/v1/members", json={"phone": phone, "name": "Lan"})
            assert response.status_code == 201, response.json
            return response.json

    return Shop()


def verify(secret, headers, body):
    """Check a Standard Webhooks signature the way a receiver would, with the stdlib."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    presented = [s.partition(",")[2] for s in headers["webhook-signature"].split()]
    return any(hmac.compare_digest(expected, p) for p in presented)


class Delay(int):
    """Seconds from a failed attempt to the retry rq scheduled for it.

    rq schedules from its own clock when it handles the failure, some time after
    the attempt was recorded and before the retry was seen: ``slack`` is that
    window, in seconds, so the check does not depend on how loaded the machine is.
    """

    slack: float = 0.0


def release_scheduled(hub):
    """Enqueue now every outbound retry rq scheduled; return the ``Delay`` of each."""
    queue = hub.jobs.queue("outbound")
    registry = queue.scheduled_job_registry
    delays = []
    for job_id in registry.get_job_ids():
        seen_at = utcnow()
        job = Job.fetch(job_id, connection=hub.jobs.redis)
        with hub.db.session() as session:
            failed_at = session.scalar(
                select(func.max(WebhookAttempt.attempted_at)).where(
                    WebhookAttempt.delivery_id == job.meta["delivery_id"]
                )
            )
        delay = Delay(round((registry.get_scheduled_time(job_id) - failed_at).total_seconds()))
        delay.slack = (seen_at - failed_at).total_seconds()
        delays.append(delay)
        registry.remove(job)
        queue.enqueue_job(job)
    return delays


def about(delays, expected):
    """Each delay is as expected, give or take rq's rounding to the second and its slack."""
    pairs = zip(delays, expected, strict=False)
    return len(delays) == len(expected) and all(a - a.slack - 1 <= e <= a + 1 for a, e in pairs)


def deliveries(hub):
    with hub.db.session() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def endpoint_row(hub, endpoint_id):
    with hub.db.session() as session:
        return session.get(WebhookEndpoint, endpoint_id)


def test_an_event_reaches_matching_endpoints_signed_per_standard_webhooks(shop, monkeypatch):
    with Receiver() as wanted, Receiver() as other:
        endpoint = shop.endpoint(wanted.url, ["member.created"])
        shop.endpoint(other.url, ["order.received"])
        member = shop.member()
        # The sender's clock, set: the signed timestamp is the moment of sending.
        sent_at = datetime(2026, 12, 6, 9, 30, 15, tzinfo=UTC)
        monkeypatch.setattr("webhooks.outbound.utcnow", lambda: sent_at)
        run_jobs(shop.hub)

    [request] = wanted.requests
    assert other.requests == []
    assert verify(endpoint["secret"], request["headers"], request["body"])
    assert request["headers"]["webhook-id"].startswith("msg_")
    assert request["headers"]["webhook-timestamp"] == str(int(sent_at.timestamp()))
    payload = json.loads(request["body"])
    assert payload["type"] == "member.created"
    assert payload["data"]["member_id"] == member["id"]
    assert "timestamp" in payload
    [delivery] = deliveries(shop.hub)
    assert (delivery.status, delivery.message_id) == ("succeeded", request["headers"]["webhook-id"])


def test_a_failing_endpoint_is_retried_with_the_same_webhook_id_until_it_succeeds(shop):
    answers = [Answer(500, b"down"), Answer(503, b"x" * 5000), Answer(204)]
    with Receiver(answers) as receiver:
        endpoint = shop.endpoint(receiver.url)
        shop.member()
        run_jobs(shop.hub)
        assert about(release_scheduled(shop.hub), [5])
        run_jobs(shop.hub)
        assert about(release_scheduled(shop.hub), [300])
        run_jobs(shop.hub)
        assert release_scheduled(shop.hub) == []

    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1
    assert all(verify(endpoint["secret"], r["headers"], r["body"]) for r in receiver.requests)

    listed = shop.call("GET", f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").json
    [delivery] = listed["data"]
    assert delivery["status"] == "succeeded"
    log = delivery["attempt_log"]
    assert [a["status_code"] for a in log] == [500, 503, 204]
    assert [a["succeeded"] for a in log] == [False, False, True]
    assert log[0]["response_snippet"] == "down"
    assert len(log[1]["response_snippet"]) == 1024
    assert all(a["duration_ms"] >= 0 for a in log)
    assert endpoint_row(shop.hub, endpoint["id"]).failing_since is None


def test_retries_follow_the_svix_schedule_then_the_delivery_fails_for_good(shop, app):
    with Receiver([Answer(500)]) as receiver:
        shop.endpoint(receiver.url)
        shop.member()
        run_jobs(shop.hub)
        delays = []
        for _ in range(10):
            released = release_scheduled(shop.hub)
            if not released:
                break
            delays.extend(released)
            run_jobs(shop.hub)

    assert about(delays, [5, 300, 1800, 7200, 18000, 36000, 36000])
    assert len(receiver.requests) == 8
    [delivery] = deliveries(shop.hub)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 8, 500)

    result = app.test_cli_runner().invoke(webhooks_group, ["failed", "--outbound"])
    assert result.exit_code == 0, result.output
    assert delivery.message_id in result.output


def test_a_slow_endpoint_times_out_and_is_retried(shop):
    def slow(_request):
        time.sleep(3)
        return Answer(200)

    with Receiver([slow, Answer(200)]) as receiver:
        shop.endpoint(receiver.url)
        shop.member()
        run_jobs(shop.hub)
        assert about(release_scheduled(shop.hub), [5])
        run_jobs(shop.hub)

    [delivery] = deliveries(shop.hub)
    assert delivery.status == "succeeded"
    detail = shop.call("GET", f"/api/v1/webhook-deliveries/{delivery.id}").json
    first, second = detail["attempt_log"]
    assert first["status_code"] is None and "no answer within 1 s" in first["error"]
    assert second["status_code"] == 200


def test_410_gone_disables_the_endpoint_and_tells_the_merchant(shop):
    with Receiver([Answer(410, b"gone")]) as receiver:
        endpoint = shop.endpoint(receiver.url, ["*"])
        shop.member()
        run_jobs(shop.hub)
        assert release_scheduled(shop.hub) == []
        shop.member("0987654321")  # later events are not sent to it
        run_jobs(shop.hub)

    assert len(receiver.requests) == 1
    row = endpoint_row(shop.hub, endpoint["id"])
    assert row.status == "disabled" and "410" in row.disabled_reason
    with shop.hub.db.session() as session:
        events = session.scalars(
            select(EventRecord).where(EventRecord.type == "webhook_endpoint.disabled")
        ).all()
        audits = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "webhook_endpoint.disabled")
        ).all()
    assert [e.data["endpoint_id"] for e in events] == [endpoint["id"]]
    assert len(audits) == 1


def test_an_endpoint_failing_for_five_days_is_disabled(shop):
    with Receiver([Answer(502)]) as receiver:
        endpoint = shop.endpoint(receiver.url)
        with shop.hub.db.transaction() as session:
            row = session.get(WebhookEndpoint, endpoint["id"])
            row.failing_since = utcnow() - timedelta(days=5, minutes=1)
        shop.member()
        run_jobs(shop.hub)

    row = endpoint_row(shop.hub, endpoint["id"])
    assert row.status == "disabled" and "5 days" in row.disabled_reason
    assert release_scheduled(shop.hub) == []
    assert [d.status for d in deliveries(shop.hub)] == ["failed"]


def test_a_redirect_is_never_followed_and_counts_as_a_failure(shop):
    with Receiver() as elsewhere:
        redirects = [
            Answer(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
            Answer(307, headers={"Location": elsewhere.url}),
        ]
        with Receiver(redirects) as receiver:
            shop.endpoint(receiver.url)
            shop.member()
            run_jobs(shop.hub)
            assert about(release_scheduled(shop.hub), [5])
            run_jobs(shop.hub)

    assert len(receiver.requests) == 2
    assert elsewhere.requests == []
    [delivery] = deliveries(shop.hub)
    assert (delivery.status, delivery.last_status_code) == ("pending", 307)


def test_an_endpoint_resolving_to_a_private_address_is_refused(shop):
    # Saving a literal private address is refused at once...
    response = shop.call(
        "POST",
        "/api/v1/webhook-endpoints",
        json={"url": "http://10.0.0.7/hook", "event_types": ["*"]},
    )
    assert response.status_code == 422 and "url" in response.json["error"]["details"]
    # ...and a name is checked when it is resolved, at every attempt.
    with Receiver() as receiver:
        shop.endpoint(receiver.url.replace("127.0.0.1", "localhost"))
        shop.hub.config["HUB_WEBHOOKS_ALLOW_LOOPBACK"] = False
        shop.member()
        run_jobs(shop.hub)
    assert receiver.requests == []
    [delivery] = deliveries(shop.hub)
    assert "SSRF guard" in delivery.last_error and "loopback" in delivery.last_error


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(shop):
    with Receiver() as receiver:
        endpoint = shop.endpoint(receiver.url, ["*"])
        rotated = shop.call("POST", f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret")
        assert rotated.status_code == 200
        new_secret = rotated.json["secret"]
        shop.member()
        run_jobs(shop.hub)
        with shop.hub.db.transaction() as session:
            row = session.get(WebhookEndpoint, endpoint["id"])
            row.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
        shop.member("0987654321")
        run_jobs(shop.hub)

    during, after = receiver.requests
    assert len(during["headers"]["webhook-signature"].split()) == 2
    assert verify(endpoint["secret"], during["headers"], during["body"])
    assert verify(new_secret, during["headers"], during["body"])
    assert len(after["headers"]["webhook-signature"].split()) == 1
    assert verify(new_secret, after["headers"], after["body"])
    assert not verify(endpoint["secret"], after["headers"], after["body"])


def test_a_delivery_is_replayed_by_hand_with_the_same_webhook_id(shop):
    with Receiver([Answer(500), Answer(200)]) as receiver:
        shop.endpoint(receiver.url)
        shop.member()
        run_jobs(shop.hub)
        [delivery] = deliveries(shop.hub)
        replayed = shop.call("POST", f"/api/v1/webhook-deliveries/{delivery.id}/replay")
        assert replayed.status_code == 202
        run_jobs(shop.hub, queues=["outbound"])

    first, second = receiver.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    detail = shop.call("GET", f"/api/v1/webhook-deliveries/{delivery.id}").json
    assert detail["status"] == "succeeded"
    assert [a["trigger"] for a in detail["attempt_log"]] == ["auto", "replay"]


def test_the_endpoint_api_shows_the_secret_once_and_validates_input(shop):
    created = shop.endpoint("https://crm.example.com/hooks", ["member.created", "order.received"])
    assert created["secret"].startswith("whsec_")
    shown = shop.call("GET", f"/api/v1/webhook-endpoints/{created['id']}").json
    assert "secret" not in shown and shown["event_types"] == ["member.created", "order.received"]

    listed = shop.call("GET", "/api/v1/webhook-endpoints").json
    assert [e["id"] for e in listed["data"]] == [created["id"]]

    patched = shop.call(
        "PATCH",
        f"/api/v1/webhook-endpoints/{created['id']}",
        json={"event_types": ["*"], "status": "disabled"},
    )
    assert patched.status_code == 200
    assert (patched.json["event_types"], patched.json["status"]) == (["*"], "disabled")

    for body in (
        {"url": "ftp://crm.example.com/x", "event_types": ["*"]},
        {"url": "https://crm.example.com/x", "event_types": []},
        {"url": "https://crm.example.com/x", "event_types": ["Not A Type!"]},
        {"url": "https://crm.example.com/x"},
    ):
        response = shop.call("POST", "/api/v1/webhook-endpoints", json=body)
        assert response.status_code == 422, body
        assert response.json["error"]["code"] == "validation_error"

    assert shop.call("DELETE", f"/api/v1/webhook-endpoints/{created['id']}").status_code == 204
    assert shop.call("GET", f"/api/v1/webhook-endpoints/{created['id']}").status_code == 404


def test_an_event_fanned_out_twice_is_delivered_once(shop):
    from hub.events import Event
    from webhooks.outbound import fan_out

    with Receiver() as receiver:
        shop.endpoint(receiver.url, ["test.ping"])
        merchant_id = shop.call("GET", "/api/v1/merchant").json["id"]
        event = Event(type="test.ping", merchant_id=merchant_id, data={"n": 1})
        first = fan_out(shop.hub, event)
        second = fan_out(shop.hub, event)
        run_jobs(shop.hub, queues=["outbound"])

    assert first == second and len(first) == 1
    assert len(receiver.requests) == 1


def test_https_connects_to_the_resolved_address_with_the_name_in_sni_and_host(shop, tls):
    with Receiver(tls=tls) as receiver:
        assert receiver.url.startswith("https://localhost:")
        shop.endpoint(receiver.url)
        shop.member()
        run_jobs(shop.hub)

    [request] = receiver.requests
    assert receiver.server_names == ["localhost"]
    assert request["headers"]["host"] == f"localhost:{receiver.port}"
    assert [d.status for d in deliveries(shop.hub)] == ["succeeded"]


def test_a_certificate_the_hub_does_not_trust_fails_the_attempt(shop, tmp_path):
    (tmp_path / "other").mkdir()
    untrusted = self_signed_certificate(tmp_path / "other")
    with Receiver(tls=untrusted) as receiver:
        shop.endpoint(receiver.url)
        shop.member()
        run_jobs(shop.hub)

    assert receiver.requests == []
    [delivery] = deliveries(shop.hub)
    assert delivery.status == "pending" and "SSL" in delivery.last_error


def webhook_jobs(hub):
    """The outbound plugin's fan-out jobs queued on the events queue."""
    return [j for j in hub.jobs.queue("events").get_job_ids() if j.endswith("-webhooks")]


def test_events_no_endpoint_asked_for_get_no_outbound_job(shop):
    # No endpoint yet: creating a member queues no job for the outbound plugin.
    shop.member("0912345678")
    assert webhook_jobs(shop.hub) == []
    run_jobs(shop.hub)
    with Receiver() as receiver:
        shop.endpoint(receiver.url, ["order.received"])
        # An endpoint, but for another type: still none.
        shop.member("0912345679")
        assert webhook_jobs(shop.hub) == []
        shop.endpoint(receiver.url, ["member.created"])
        # Asked for: the next member.created gets its job and reaches the endpoint.
        member = shop.member("0912345670")
        assert len(webhook_jobs(shop.hub)) == 1
        run_jobs(shop.hub)
    [request] = receiver.requests
    assert json.loads(request["body"])["data"]["member_id"] == member["id"]
