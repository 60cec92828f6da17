"""Zalo ZNS through its simulator: template sends, token refresh (once, under a lock), receipts."""

from __future__ import annotations

import threading
from datetime import datetime
from datetime import timedelta

import pytest
import requests
from simulators import fixtures
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect_esms
from simulators.fixtures import connect_zalo
from simulators.fixtures import message

from hub import queue_message
from hub import utcnow
from hub.messaging.delivery import deliver_message
from hub.messaging.delivery import release_due
from hub.models import Connection

zalo = fixtures.zalo
esms = fixtures.esms
hub_server = fixtures.hub_server

TEMPLATE = {
    "template_id": "375847",
    "params": {"customer_name": "{name}", "point": "{points_earned}", "balance": "{points}"},
}


@pytest.fixture
def hub_config(request):
    """``database`` (default): no Redis, a refresh locks the connection's row; ``redis``: Redis."""
    if getattr(request, "param", "database") == "redis":
        return {
            "HUB_REDIS_URL": request.getfixturevalue("redis_url"),
            "HUB_REDIS_PREFIX": request.getfixturevalue("redis_prefix"),
        }
    return {}


def _future(hours=20) -> str:
    return (utcnow() + timedelta(hours=hours)).isoformat()


def _setup(api, zalo, *, expires_at=None, channel_order=("zalo",), quiet_hours=None, sms=None):
    access, refresh = zalo.issue_tokens()
    connection_id = connect_zalo(
        api, zalo, access=access, refresh=refresh, expires_at=expires_at or _future()
    )
    connections = {"zalo": connection_id}
    if sms is not None:
        connections["sms"] = sms
    configure(
        api,
        channel_order=list(channel_order),
        connections=connections,
        kinds={"points_earned": {"enabled": True, "zalo_template": TEMPLATE}},
        **({"quiet_hours": quiet_hours} if quiet_hours else {}),
    )
    gateways = api.get("/api/v1/messaging/settings").json["gateways"]
    zalo.webhook_url = next(g["receipts_url"] for g in gateways if g["connector"] == "zalo")
    return connection_id, access, refresh


def _queue(hub, merchant, member, key="z1"):
    return queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind="points_earned",
        key=key,
        variables={"points_earned": 45},
    )


def _secrets(hub, connection_id):
    with hub.db.session() as session:
        return hub.secrets.decrypt(session.get(Connection, connection_id).secrets_encrypted)


def test_a_zns_goes_out_with_its_template_and_a_signed_event_marks_it_delivered(
    api, hub, merchant, zalo, hub_server
):
    # Given a merchant sending points messages as ZNS
    _setup(api, zalo)
    member = add_member(api)
    # When a message is queued
    message_id = _queue(hub, merchant, member)
    # Then Zalo got the template with the member's values and our id to track it
    sent = zalo.sent[0]
    assert sent.phone == "84912345678"
    assert sent.template_id == "375847"
    assert sent.template_data == {"customer_name": "Nguyễn Thị Lan", "point": "45", "balance": "0"}
    assert sent.tracking_id == str(message_id)
    assert message(api, message_id)["channel"] == "zalo"
    # When Zalo posts its signed user_received_message event
    assert zalo.deliver_receipts() == [200]
    # Then the message is delivered
    delivered = message(api, message_id)
    assert delivered["status"] == "delivered"
    assert delivered["gateway_message_id"] == sent.msg_id


def test_an_expired_token_is_refreshed_first_and_the_new_pair_stored(
    api, hub, merchant, zalo, hub_server
):
    # Given the stored access token expired an hour ago
    connection_id, _, refresh = _setup(api, zalo, expires_at=_future(-1))
    member = add_member(api)
    # When two messages go out
    _queue(hub, merchant, member)
    _queue(hub, merchant, member, key="z2")
    # Then Zalo was asked for a new pair once, and the new pair is stored
    assert zalo.refresh_calls == 1
    stored = _secrets(hub, connection_id)
    assert stored["refresh_token"] != refresh and stored["refresh_token"] in zalo.refresh_tokens
    assert datetime.fromisoformat(stored["access_token_expires_at"]) > utcnow() + timedelta(
        hours=24
    )
    assert len(zalo.sent) == 2


def test_a_token_zalo_rejects_is_refreshed_and_the_send_tried_again(
    api, hub, merchant, zalo, hub_server
):
    # Given Zalo revoked the access token before its stated expiry
    _, access, _ = _setup(api, zalo)
    zalo.expire(access)
    # When a message goes out
    message_id = _queue(hub, merchant, add_member(api))
    # Then the send got -216, the token was refreshed, and the second try went through
    assert zalo.refresh_calls == 1
    assert message(api, message_id)["status"] == "sent"


@pytest.mark.parametrize("hub_config", ["database", "redis"], indirect=True)
def test_two_workers_finding_the_token_expired_refresh_it_once(
    app, api, hub, merchant, zalo, hub_server
):
    # Given an expired token, and two messages waiting (held by quiet hours, or in rq's queue)
    now = utcnow()
    local = now + timedelta(hours=7)  # the merchant is in Asia/Ho_Chi_Minh
    quiet = {
        "enabled": True,
        "start": (local - timedelta(hours=1)).strftime("%H:%M"),
        "end": (local + timedelta(hours=1)).strftime("%H:%M"),
    }
    _setup(api, zalo, expires_at=_future(-1), quiet_hours=quiet)
    member = add_member(api)
    first, second = _queue(hub, merchant, member), _queue(hub, merchant, member, key="z2")
    assert {message(api, first)["status"], message(api, second)["status"]} <= {"held", "queued"}
    assert zalo.sent == [] and zalo.refresh_calls == 0
    # And Zalo answers a refresh only once another arrives (or a second passes)
    zalo.hold_refresh(1.0)
    # When two workers deliver them at the same moment, after quiet hours
    later = (now + timedelta(hours=2)).isoformat()
    start = threading.Barrier(2)
    results = {}

    def work(message_id):
        with app.app_context():
            start.wait()
            results[message_id] = deliver_message(message_id, later)

    threads = [threading.Thread(target=work, args=(m,)) for m in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one refresh reached Zalo, no refresh token was used twice, and both went out
    assert zalo.refresh_calls == 1
    assert zalo.refresh_reuses == 0
    assert results == {first: "sent", second: "sent"}
    assert len(zalo.sent) == 2


def test_the_simulator_refuses_a_refresh_token_used_twice_as_zalo_does(zalo):
    # The race above would show: the second use of a refresh token is refused with -14020.
    _, refresh = zalo.issue_tokens()
    form = {"refresh_token": refresh, "app_id": zalo.app_id, "grant_type": "refresh_token"}
    url = f"{zalo.base_url}/v4/oa/access_token"
    headers = {"secret_key": zalo.app_secret}
    first = requests.post(url, data=form, headers=headers, timeout=10).json()
    second = requests.post(url, data=form, headers=headers, timeout=10).json()
    assert "access_token" in first
    assert second["error"] == -14020
    assert zalo.refresh_reuses == 1


def test_a_used_refresh_token_fails_the_message_with_the_fix(api, hub, merchant, zalo, hub_server):
    # Given the stored refresh token was already used (by another install, say)
    connection_id, _, refresh = _setup(api, zalo, expires_at=_future(-1))
    zalo.refresh_tokens.discard(refresh)
    zalo.used_refresh_tokens.add(refresh)
    # When a message goes out
    message_id = _queue(hub, merchant, add_member(api))
    # Then it fails, saying what to do, and the stored secrets are untouched
    failed = message(api, message_id)
    assert failed["status"] == "failed"
    assert "-14020" in failed["reason"] and "authorize the OA again" in failed["reason"]
    assert _secrets(hub, connection_id)["refresh_token"] == refresh


def test_a_member_without_zalo_gets_the_sms_instead(api, hub, merchant, zalo, esms, hub_server):
    # Given Zalo first, then SMS through eSMS; the member's number has no Zalo account
    sms = connect_esms(api, esms)
    _setup(api, zalo, channel_order=("zalo", "sms"), sms=sms)
    zalo.no_zalo.add("84912345678")
    # When a message is queued
    message_id = _queue(hub, merchant, add_member(api))
    # Then ZNS failed for good (-118) and the SMS went out instead
    sent = message(api, message_id)
    assert (sent["status"], sent["channel"], sent["gateway"]) == ("sent", "sms", "esms")
    failures = [h for h in sent["history"] if h["event"] == "channel_failed"]
    assert failures[0]["channel"] == "zalo" and "-118" in failures[0]["error"]
    assert len(esms.sent) == 1 and zalo.sent == []


def test_a_rate_limited_zns_is_retried_on_zalo(api, hub, merchant, zalo, hub_server):
    _setup(api, zalo)
    zalo.script("transient")
    message_id = _queue(hub, merchant, add_member(api))
    held = message(api, message_id)
    assert held["status"] == "held" and "-32" in held["reason"]
    release_due(hub, now=datetime.fromisoformat(held["due_at"]) + timedelta(minutes=2))
    assert message(api, message_id)["status"] == "sent"


def test_a_forged_zalo_event_changes_nothing(api, hub, merchant, zalo, hub_server):
    # Given a ZNS sent
    _setup(api, zalo)
    message_id = _queue(hub, merchant, add_member(api))
    body = zalo.event_body(zalo.sent[0])
    # When events arrive signed with the wrong key, unsigned, or with a body changed after signing
    wrong_key = zalo.post_event(body, zalo.sign(body, key="guessed"))
    unsigned = zalo.post_event(body, "")
    tampered = zalo.post_event(body.replace(b"user_received", b"user_received "), zalo.sign(body))
    # Then all are refused and the message is still only sent
    assert [wrong_key, unsigned, tampered] == [401, 401, 401]
    assert message(api, message_id)["status"] == "sent"


def _opt_outs(api, member) -> list[str]:
    return [o["channel"] for o in api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"]]


def test_a_follower_who_shared_their_phone_and_replies_stop_is_opted_out_of_zalo(
    api, hub, merchant, zalo, hub_server
):
    # Given a member who agreed to Zalo, and a follower of the OA who shared that phone
    _setup(api, zalo)
    member = add_member(api, consents={"zalo": True, "sms": True})
    assert zalo.follower_shares("8712398473", "84912345678") == 200
    # When the follower writes "Từ chối" ("refuse") to the OA
    assert zalo.follower_says("8712398473", "Từ chối") == 200
    # Then the phone gets nothing more on Zalo, SMS is untouched, and consent is withdrawn
    assert _opt_outs(api, member) == ["zalo"]
    consents = api.get(f"/api/v1/members/{member['id']}").json["consents"]
    assert consents["zalo"]["granted"] is False and consents["zalo"]["source"] == "reply_stop"
    assert consents["sms"]["granted"] is True
    assert message(api, _queue(hub, merchant, member))["status"] == "skipped"
    assert zalo.sent == []


def test_a_reply_from_a_follower_who_never_shared_a_phone_changes_nothing(
    api, hub, merchant, zalo, hub_server
):
    _setup(api, zalo)
    member = add_member(api)
    assert zalo.follower_says("5550001", "STOP") == 200
    assert zalo.follower_shares("5550002", "84987654321") == 200  # no member has this phone
    assert zalo.follower_says("5550002", "STOP") == 200
    assert _opt_outs(api, member) == []


def test_other_follower_texts_change_nothing(api, hub, merchant, zalo, hub_server):
    _setup(api, zalo)
    member = add_member(api)
    assert zalo.follower_shares("8712398473", "0912345678") == 200
    assert zalo.follower_says("8712398473", "Shop mở cửa mấy giờ?") == 200
    assert _opt_outs(api, member) == []


def test_a_forged_stop_from_a_follower_changes_nothing(api, hub, merchant, zalo, hub_server):
    _setup(api, zalo)
    member = add_member(api)
    assert zalo.follower_shares("8712398473", "0912345678") == 200
    body = zalo.follower_event(
        "user_send_text", "8712398473", message={"text": "STOP", "msg_id": "forged"}
    )
    assert zalo.post_event(body, zalo.sign(body, key="not-the-oa-secret")) == 401
    assert _opt_outs(api, member) == []
