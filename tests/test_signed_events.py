"""Signed events: a sender holding an events signing secret, not the API key.

Given a merchant's secret made through the API, when a request is signed the
Standard Webhooks way, then it earns like an API-key request; a missing, wrong,
stale or tampered signature answers 401 in the error shape; the same webhook-id
again answers the first event and never earns twice, even sent concurrently.
"""

import base64
import hashlib
import hmac
import json
import threading
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
RULES = [{"kind": "review.published", "points": 50}]


@pytest.fixture
def clock(monkeypatch):
    """The hub's clock, as the signature check and the secrets read it."""
    now = {"at": NOW}
    monkeypatch.setattr("hub.api.event_signatures.utcnow", lambda: now["at"])
    monkeypatch.setattr("hub.api.events.utcnow", lambda: now["at"])
    return now


@pytest.fixture
def lan(api):
    assert api.put("/api/v1/events/rules", json={"data": RULES}).status_code == 200
    return api.post("/api/v1/members", json={"phone": "0912345678", "name": "Lan"}).json


@pytest.fixture
def secret(api, clock):
    answer = api.post("/api/v1/events/secrets")
    assert answer.status_code == 201, answer.json
    assert answer.json["secret"].startswith("whsec_")
    return answer.json["secret"]


def signature(secret, event_id, timestamp, body):
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_post(client, merchant_id, secrets, event_id, body, *, at=NOW, tamper=None):
    raw = json.dumps(body).encode()
    timestamp = str(int(at.timestamp()))
    headers = {
        "hub-merchant": str(merchant_id),
        "webhook-id": event_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": " ".join(signature(s, event_id, timestamp, raw) for s in secrets),
        "Content-Type": "application/json",
    }
    return client.post("/api/v1/events", data=tamper or raw, headers=headers)


def review(**extra):
    return {"kind": "review.published", "phone": "0912345678", **extra}


def balance(api, member):
    return api.get(f"/api/v1/members/{member['id']}").json["points"]["available"]


def test_a_signed_event_earns_and_its_replay_answers_the_same_event(api, client, lan, secret):
    first = signed_post(client, api.merchant.id, [secret], "msg_review_1", review())
    assert first.status_code == 201, first.json
    assert (first.json["outcome"], first.json["idempotency_key"]) == ("earned", "msg_review_1")
    again = signed_post(client, api.merchant.id, [secret], "msg_review_1", review())
    assert again.status_code == 200, again.json
    assert again.json == first.json
    assert balance(api, lan) == 50


def test_the_api_key_path_keeps_working(api, lan, secret):
    answer = api.post("/api/v1/events", json=review(), headers={"Idempotency-Key": "k-1"})
    assert answer.status_code == 201, answer.json
    assert balance(api, lan) == 50


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("missing", "signature_missing"),
        ("wrong_secret", "signature_invalid"),
        ("tampered", "signature_invalid"),
        ("stale", "signature_expired"),
        ("future", "signature_expired"),
        ("other_merchant", "signature_invalid"),
        ("not_a_number", "signature_invalid"),
    ],
)
def test_a_bad_signature_is_refused_in_the_error_shape(api, client, lan, secret, case, code):
    merchant = api.merchant.id
    if case == "missing":
        answer = client.post("/api/v1/events", json=review(), headers={"hub-merchant": "1"})
    elif case == "wrong_secret":
        other = "whsec_" + base64.b64encode(b"x" * 32).decode()
        answer = signed_post(client, merchant, [other], "m-1", review())
    elif case == "tampered":
        tampered = json.dumps(review(kind="profile.completed")).encode()
        answer = signed_post(client, merchant, [secret], "m-1", review(), tamper=tampered)
    elif case == "stale":
        answer = signed_post(
            client, merchant, [secret], "m-1", review(), at=NOW - timedelta(minutes=6)
        )
    elif case == "future":
        answer = signed_post(
            client, merchant, [secret], "m-1", review(), at=NOW + timedelta(minutes=6)
        )
    elif case == "other_merchant":
        answer = signed_post(client, merchant + 1000, [secret], "m-1", review())
    else:
        answer = client.post(
            "/api/v1/events",
            json=review(),
            headers={"hub-merchant": "x", "webhook-id": "m", "webhook-timestamp": "1",
                     "webhook-signature": "v1,AAAA"},
        )  # fmt: skip
    assert answer.status_code == 401, answer.json
    assert answer.json["error"]["code"] == code
    assert set(answer.json["error"]) == {"code", "message", "details"}
    assert balance(api, lan) == 0


def test_a_timestamp_inside_five_minutes_either_way_is_accepted(api, client, lan, secret, clock):
    early = signed_post(
        client, api.merchant.id, [secret], "e-1", review(), at=NOW - timedelta(minutes=5)
    )
    late = signed_post(
        client, api.merchant.id, [secret], "e-2", review(), at=NOW + timedelta(minutes=5)
    )
    assert (early.status_code, late.status_code) == (201, 201)
    clock["at"] = NOW + timedelta(minutes=11)
    replayed_late = signed_post(client, api.merchant.id, [secret], "e-1", review(), at=NOW)
    assert replayed_late.json["error"]["code"] == "signature_expired"


def test_during_a_rotation_both_secrets_sign_and_the_old_one_stops_a_day_later(
    api, client, lan, secret, clock
):
    new = api.post("/api/v1/events/secrets").json["secret"]
    listed = api.get("/api/v1/events/secrets").json["data"]
    assert len(listed) == 2 and all("secret" not in row for row in listed)
    both = signed_post(client, api.merchant.id, [secret, new], "r-1", review())
    old_only = signed_post(client, api.merchant.id, [secret], "r-2", review())
    assert (both.status_code, old_only.status_code) == (201, 201)
    clock["at"] = NOW + timedelta(hours=24, seconds=1)
    later = clock["at"]
    old_later = signed_post(client, api.merchant.id, [secret], "r-3", review(), at=later)
    new_later = signed_post(client, api.merchant.id, [new], "r-4", review(), at=later)
    assert (old_later.status_code, new_later.status_code) == (401, 201)
    assert len(api.get("/api/v1/events/secrets").json["data"]) == 1


def test_a_signed_request_reaches_only_the_events_endpoint(api, client, secret):
    raw = b""
    timestamp = str(int(NOW.timestamp()))
    answer = client.get(
        "/api/v1/events/secrets",
        headers={"hub-merchant": str(api.merchant.id), "webhook-id": "x",
                 "webhook-timestamp": timestamp,
                 "webhook-signature": signature(secret, "x", timestamp, raw)},
    )  # fmt: skip
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "unauthorized"


def test_concurrent_sends_of_one_webhook_id_earn_once(api, client, hub, lan, secret):
    answers, errors = [], []
    app = client.application

    def send():
        try:
            with app.test_client() as own:
                answers.append(signed_post(own, api.merchant.id, [secret], "same-id", review()))
        except Exception as exc:  # the test fails below with it
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json["id"] for a in answers}) == 1
    assert balance(api, lan) == 50


def test_the_openapi_document_names_the_signature_and_its_headers(client):
    spec = client.get("/api/v1/openapi.json").json
    scheme = spec["components"]["securitySchemes"]["eventSignature"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == (
        "apiKey",
        "header",
        "webhook-signature",
    )
    post = spec["paths"]["/api/v1/events"]["post"]
    assert post["security"] == [{"bearer": []}, {"eventSignature": []}]
    headers = {p["name"] for p in post["parameters"] if isinstance(p, dict) and "name" in p}
    assert {"hub-merchant", "webhook-id", "webhook-timestamp"} <= headers
    assert "401" in post["responses"]
    assert set(spec["paths"]["/api/v1/events/secrets"]) == {"get", "post"}
