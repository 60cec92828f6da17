"""Idempotency-Key: replay the first answer, refuse a changed body, 409 while running."""

import threading

import pytest
from flask import Blueprint

from hub import hookimpl

#: Seconds a wait for the other thread may last before the test calls it hung: a guard
#: against a test that never ends, not a bound on speed (each wait ends when the thread acts).
HANG_GUARD = 120


class SlowEndpoint:
    """A test plugin with a POST endpoint that waits until the test lets it finish."""

    __name__ = "slow-endpoint"

    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    @hookimpl
    def register_blueprints(self):
        bp = Blueprint("slow", __name__)

        @bp.post("/api/v1/test-slow")
        def slow():
            self.calls += 1
            self.entered.set()
            self.release.wait(HANG_GUARD)
            return {"calls": self.calls}, 201

        return [bp]


@pytest.fixture
def slow():
    return SlowEndpoint()


@pytest.fixture
def hub_plugins(slow):
    return [slow]


def key(value):
    return {"Idempotency-Key": value}


def test_same_key_and_body_replays_the_first_answer(api, hub):
    body = {"phone": "0912345678", "name": "Lan"}
    first = api.post("/api/v1/members", json=body, headers=key("k-1"))
    second = api.post("/api/v1/members", json=body, headers=key("k-1"))

    assert first.status_code == second.status_code == 201
    assert second.get_data() == first.get_data()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(api.get("/api/v1/members").json["data"]) == 1


def test_same_key_with_another_body_is_422(api):
    api.post("/api/v1/members", json={"phone": "0912345678"}, headers=key("k-2"))
    response = api.post("/api/v1/members", json={"phone": "0987654321"}, headers=key("k-2"))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "idempotency_key_reused"


def test_error_answers_are_replayed_too(api):
    body = {"phone": "12345"}
    first = api.post("/api/v1/members", json=body, headers=key("k-3"))
    second = api.post("/api/v1/members", json=body, headers=key("k-3"))
    assert first.status_code == second.status_code == 422
    assert second.headers.get("Idempotent-Replayed") == "true"


def test_keys_belong_to_one_merchant(api, other_api):
    body = {"phone": "0912345678"}
    assert api.post("/api/v1/members", json=body, headers=key("shared")).status_code == 201
    response = other_api.post("/api/v1/members", json=body, headers=key("shared"))
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_a_second_request_while_the_first_runs_is_409(api, slow):
    results = {}

    def first_call():
        results["first"] = api.post("/api/v1/test-slow", json={}, headers=key("k-4"))

    thread = threading.Thread(target=first_call)
    thread.start()
    assert slow.entered.wait(HANG_GUARD)

    during = api.post("/api/v1/test-slow", json={}, headers=key("k-4"))
    slow.release.set()
    thread.join(HANG_GUARD)
    after = api.post("/api/v1/test-slow", json={}, headers=key("k-4"))

    assert during.status_code == 409
    assert during.json["error"]["code"] == "idempotency_key_in_progress"
    assert results["first"].status_code == 201
    assert after.get_data() == results["first"].get_data()
    assert slow.calls == 1


def test_keys_expire_after_the_retention_window(api, hub):
    from datetime import timedelta

    from sqlalchemy import update

    from hub.db import utcnow
    from hub.models import IdempotencyRecord

    api.post("/api/v1/members", json={"phone": "0912345678"}, headers=key("old"))
    with hub.db.transaction() as session:
        session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))

    response = api.post("/api/v1/members", json={"phone": "0987654321"}, headers=key("old"))
    assert response.status_code == 201


def test_an_overlong_key_is_a_400(api):
    response = api.post("/api/v1/members", json={}, headers=key("x" * 300))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_idempotency_key"
