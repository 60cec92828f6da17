"""``/metrics`` in Prometheus's format, ``/healthz`` and ``/readyz``.

Counters live for the process, so each test reads them before and after and
compares the difference; gauges are read as they are.
"""

from __future__ import annotations

import socket

import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_webhooks import Shop
from test_webhooks import order_event

from hub.testing import make_app
from hub.testing import run_jobs
from webhooks.testing import LiveServer
from webhooks.testing import new_test_secret

WEBHOOK_ROUTE = "/webhooks/<connector>/<int:connection_id>"


def scrape(app, **headers) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics``, parsed, keyed by (name, sorted labels)."""
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delivered(samples, outcome) -> float:
    return value(samples, "hub_webhook_deliveries_total", connector="custom", outcome=outcome)


@pytest.fixture
def shop(redis_app):
    with LiveServer(redis_app) as server:
        yield Shop(redis_app, server)


def test_a_webhook_an_accrual_and_a_failed_job_show_in_the_metrics(shop):
    before = scrape(shop.app)
    assert shop.send(order_event("W-1"), "msg-1")[0] == 200
    assert shop.send(order_event("W-1"), "msg-1")[0] == 200  # the platform's retry
    assert shop.send(order_event("W-2"), "msg-2", secret=new_test_secret("forged"))[0] == 401
    broken = order_event("W-3")
    broken["data"]["financial_status"] = "maybe"
    assert shop.send(broken, "msg-3")[0] == 200

    waiting = scrape(shop.app)
    run_jobs(shop.hub)
    after = scrape(shop.app)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert [delivered(after, o) - delivered(before, o) for o in ("received", "stored")] == [4, 2]
    assert [delivered(after, o) - delivered(before, o) for o in ("duplicate", "rejected")] == [1, 1]
    assert value(waiting, "hub_webhook_inbox_backlog", connector="custom") == 2
    assert value(waiting, "hub_webhook_inbox_oldest_age_seconds", connector="custom") >= 0
    assert ("hub_webhook_inbox_backlog", (("connector", "custom"),)) not in after
    assert grew("hub_accruals_total") == 1
    assert grew("hub_points_accrued_total") > 0
    assert value(after, "hub_jobs_failed", queue="inbound") == 1
    assert value(after, "hub_jobs_queued", queue="inbound") == 0
    assert grew("hub_http_requests_total", method="POST", route=WEBHOOK_ROUTE, status="401") == 1
    assert grew("hub_http_request_duration_seconds_count", method="GET", route="/metrics") == 2


def test_request_counts_and_latency_are_kept_by_route_not_by_path(client, api, member):
    before = scrape(client.application)
    api.get(f"/api/v1/members/{member['id']}")
    api.get("/api/v1/members/999999")
    after = scrape(client.application)

    route = "/api/v1/members/<int:member_id>"
    for status in ("200", "404"):
        labels = {"method": "GET", "route": route, "status": status}
        grew = value(after, "hub_http_requests_total", **labels)
        assert grew - value(before, "hub_http_requests_total", **labels) == 1
    seconds = {"method": "GET", "route": route}
    count = value(after, "hub_http_request_duration_seconds_count", **seconds)
    assert count - value(before, "hub_http_request_duration_seconds_count", **seconds) == 2
    assert not any("999999" in str(key) for key in after)


def test_metrics_answer_only_this_machine_without_a_token(client):
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    local = client.get("/metrics")

    assert remote.status_code == 404
    assert proxied.status_code == 404
    assert local.status_code == 200


@pytest.mark.parametrize("hub_config", [{"HUB_METRICS_TOKEN": "scrape-me"}])
def test_with_a_token_metrics_want_it_from_anywhere(client):
    without = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    right = client.get(
        "/metrics",
        headers={"Authorization": "Bearer scrape-me"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )

    assert without.status_code == 401
    assert without.json["error"]["code"] == "metrics_token"
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert b"hub_http_requests_total" in right.data


def test_healthz_answers_without_the_database(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'missing' / 'hub.sqlite3'}", instance_path=tmp_path)

    response = app.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_answers_200_when_the_database_and_its_schema_are_ready(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json["checks"] == {
        "database": "ok",
        "schema": "ok",
        "redis": "not configured",
    }


def test_readyz_answers_503_naming_the_check_but_not_the_address(hub_cli_free_port, tmp_path):
    unreachable = f"sqlite:///{tmp_path / 'missing' / 'hub.sqlite3'}"
    redis_url = f"redis://127.0.0.1:{hub_cli_free_port}/0"
    app = make_app(unreachable, config={"HUB_REDIS_URL": redis_url}, instance_path=tmp_path)

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"] == {"database": "failed", "schema": "unknown", "redis": "failed"}
    assert str(hub_cli_free_port) not in response.get_data(as_text=True)


def test_readyz_answers_503_while_the_schema_is_not_migrated(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}", instance_path=tmp_path)

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["checks"]["schema"] == "failed"


@pytest.fixture
def hub_cli_free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
