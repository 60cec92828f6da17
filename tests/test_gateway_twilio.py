"""Twilio through its simulator: E.164 sends, signed status callbacks, STOP replies."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import requests
from simulators import fixtures
from simulators.fixtures import E164
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect
from simulators.fixtures import message
from simulators.fixtures import sms_only
from simulators.twilio import twilio_signature

from hub import queue_message
from hub.messaging.delivery import release_due

twilio = fixtures.twilio
hub_server = fixtures.hub_server


def _setup(api, twilio, **settings):
    connection_id = connect(
        api,
        "twilio",
        settings={
            "account_sid": twilio.account_sid,
            "from_number": "+15005550006",
            "price": "2000",
        },
        secrets={"auth_token": twilio.auth_token},
    )
    configure(api, **sms_only(connection_id, points_earned={}), **settings)
    return connection_id, add_member(api)


def _queue(hub, merchant, member, key="t1"):
    return queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind="points_earned",
        key=key,
        variables={"points_earned": 45},
    )


def _settings(api):
    return api.get("/api/v1/messaging/settings").json


def test_an_sms_goes_to_twilio_in_e164_and_a_signed_callback_marks_it_delivered(
    api, hub, merchant, twilio, hub_server
):
    # Given a merchant sending by SMS through Twilio
    connection_id, member = _setup(api, twilio)
    # When a message is queued
    message_id = _queue(hub, merchant, member)
    # Then Twilio got the number in E.164 and our status callback URL
    sent = twilio.sent[0]
    assert sent.to == E164
    assert sent.status_callback.startswith(
        f"{hub_server.base_url}/messaging/twilio/{connection_id}/receipts?token="
    )
    assert message(api, message_id)["gateway_message_id"] == sent.sid
    # When Twilio reports it delivered, signed with the auth token
    assert twilio.deliver_receipts("delivered") == [200]
    # Then it is delivered; the estimate (2000 per part) stands as its cost
    delivered = message(api, message_id)
    assert delivered["status"] == "delivered"
    assert delivered["estimated_cost"] == "2000"


def test_undelivered_reports_fail_the_message_with_twilio_error(
    api, hub, merchant, twilio, hub_server
):
    _, member = _setup(api, twilio)
    message_id = _queue(hub, merchant, member)
    twilio.deliver_receipts("undelivered", error_code="30005")
    failed = message(api, message_id)
    assert failed["status"] == "failed"
    assert failed["reason"] == "Twilio error 30005"


def test_too_many_requests_is_retried_then_sent(api, hub, merchant, twilio, hub_server):
    _, member = _setup(api, twilio)
    twilio.script("transient", "http503")
    message_id = _queue(hub, merchant, member)
    first = message(api, message_id)
    assert first["status"] == "held" and "20429" in first["reason"]
    release_due(hub, now=datetime.fromisoformat(first["due_at"]) + timedelta(minutes=2))
    second = message(api, message_id)
    assert second["status"] == "held" and "HTTP 503" in second["reason"]
    # the second wait is longer: one minute
    gap = datetime.fromisoformat(second["due_at"]) - datetime.fromisoformat(first["due_at"])
    assert gap > timedelta(seconds=60)
    release_due(hub, now=datetime.fromisoformat(second["due_at"]) + timedelta(minutes=2))
    assert message(api, message_id)["status"] == "sent"
    assert len(twilio.sent) == 1


def test_an_invalid_number_fails_permanently(api, hub, merchant, twilio, hub_server):
    _, member = _setup(api, twilio)
    twilio.script("permanent")
    message_id = _queue(hub, merchant, member)
    failed = message(api, message_id)
    assert failed["status"] == "failed" and "21211" in failed["reason"]


def test_an_unsubscribed_recipient_is_opted_out_of_sms(api, hub, merchant, twilio, hub_server):
    # Given Twilio says the number replied STOP to this sender (error 21610)
    _, member = _setup(api, twilio)
    twilio.script("unsubscribed")
    first = _queue(hub, merchant, member)
    assert message(api, first)["status"] == "failed"
    # Then the number is opted out, and the next message is not even tried
    opt_outs = api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"]
    assert [(o["channel"], o["source"]) for o in opt_outs] == [("sms", "gateway:twilio")]
    second = _queue(hub, merchant, member, key="t2")
    assert message(api, second)["status"] == "skipped"
    assert "opted out" in message(api, second)["reason"]


def test_a_forged_status_callback_changes_nothing(api, hub, merchant, twilio, hub_server):
    # Given a sent message
    _, member = _setup(api, twilio)
    message_id = _queue(hub, merchant, member)
    sent = twilio.sent[0]
    params = {
        "MessageSid": sent.sid,
        "MessageStatus": "delivered",
        "AccountSid": twilio.account_sid,
    }
    # When a callback arrives signed with another key, unsigned, or signed over other params
    wrong_key = twilio.post_signed(sent.status_callback, params, token="not-the-token")
    unsigned = requests.post(sent.status_callback, data=params, timeout=10).status_code
    signature = twilio_signature(twilio.auth_token, sent.status_callback, params)
    tampered = requests.post(
        sent.status_callback,
        data={**params, "MessageStatus": "failed"},
        headers={"X-Twilio-Signature": signature},
        timeout=10,
    ).status_code
    # Then each is refused and the message stays sent
    assert [wrong_key, unsigned, tampered] == [401, 401, 401]
    assert message(api, message_id)["status"] == "sent"


def test_a_stop_reply_opts_the_number_out_at_once(api, hub, merchant, twilio, hub_server):
    # Given a member who consented to SMS marketing
    connection_id, member = _setup(api, twilio)
    api.patch(f"/api/v1/members/{member['id']}", json={"consents": {"sms": True}})
    inbound_url = next(
        g["inbound_url"] for g in _settings(api)["gateways"] if g["connection_id"] == connection_id
    )
    # When the member replies STOP to the merchant's number
    assert twilio.send_reply(inbound_url, E164, "Stop") == 200
    # Then the number is opted out of SMS and marketing consent is withdrawn
    opt_outs = api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"]
    assert [(o["channel"], o["source"]) for o in opt_outs] == [("sms", "reply_stop")]
    consent = api.get(f"/api/v1/members/{member['id']}").json["consents"]["sms"]
    assert consent["granted"] is False and consent["source"] == "reply_stop"
    # And nothing more goes out to it, transactional or not
    skipped = _queue(hub, merchant, member)
    assert message(api, skipped)["status"] == "skipped"
    assert twilio.sent == []
    # When they reply START
    assert twilio.send_reply(inbound_url, E164, "START") == 200
    # Then transactional messages reach them again
    assert message(api, _queue(hub, merchant, member, key="t2"))["status"] == "sent"


def test_a_forged_stop_reply_changes_nothing(api, hub, merchant, twilio, hub_server):
    connection_id, member = _setup(api, twilio)
    inbound_url = next(
        g["inbound_url"] for g in _settings(api)["gateways"] if g["connection_id"] == connection_id
    )
    params = {"From": E164, "Body": "STOP", "MessageSid": "SM1"}
    assert twilio.post_signed(inbound_url, params, token="guess") == 401
    assert api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"] == []
