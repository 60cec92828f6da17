"""SpeedSMS through its simulator: sends, errors, JSON reports and replies on one webhook."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import requests
from simulators import fixtures
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect
from simulators.fixtures import message
from simulators.fixtures import sms_only

from hub import queue_message
from hub.messaging.delivery import release_due

speedsms = fixtures.speedsms
hub_server = fixtures.hub_server


def _setup(api, speedsms):
    connection_id = connect(
        api,
        "speedsms",
        settings={"sender": "HOAMAI"},
        secrets={"access_token": speedsms.access_token},
    )
    configure(api, **sms_only(connection_id, points_earned={}))
    receipts = api.get("/api/v1/messaging/settings").json["gateways"][0]["receipts_url"]
    speedsms.webhook_url = receipts  # set once in the SpeedSMS account
    return connection_id, add_member(api)


def _queue(hub, merchant, member, key="s1"):
    return queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind="points_earned",
        key=key,
        variables={"points_earned": 45},
    )


def test_an_sms_goes_to_speedsms_and_its_report_marks_it_delivered(
    api, hub, merchant, speedsms, hub_server
):
    # Given a merchant sending through SpeedSMS with a brandname
    _, member = _setup(api, speedsms)
    # When a message is queued
    message_id = _queue(hub, merchant, member)
    # Then SpeedSMS got it for 84..., brandname type, and answered its price
    sent = speedsms.sent[0]
    assert (sent.phone, sent.sms_type, sent.sender) == ("84912345678", 3, "HOAMAI")
    accepted = message(api, message_id)
    assert accepted["gateway_message_id"] == str(sent.tran_id)
    assert accepted["cost"] == "250" and accepted["cost_currency"] == "VND"
    # When SpeedSMS posts a report with status 0
    assert speedsms.deliver_receipts(0) == [200]
    # Then it is delivered
    assert message(api, message_id)["status"] == "delivered"


def test_a_report_still_trying_keeps_it_sent_and_a_final_failure_fails_it(
    api, hub, merchant, speedsms, hub_server
):
    _, member = _setup(api, speedsms)
    message_id = _queue(hub, merchant, member)
    tran_id = speedsms.sent[0].tran_id
    speedsms.deliver_receipts(3)
    assert message(api, message_id)["status"] == "sent"
    report = {"type": "report", "tranId": tran_id, "phone": "84912345678", "status": 64}
    assert requests.post(speedsms.webhook_url, json=report, timeout=10).status_code == 200
    failed = message(api, message_id)
    assert failed["status"] == "failed" and "status 64" in failed["reason"]


def test_an_internal_error_is_retried_then_sent(api, hub, merchant, speedsms, hub_server):
    _, member = _setup(api, speedsms)
    speedsms.script("transient")
    message_id = _queue(hub, merchant, member)
    held = message(api, message_id)
    assert held["status"] == "held" and "code 500" in held["reason"]
    release_due(hub, now=datetime.fromisoformat(held["due_at"]) + timedelta(minutes=2))
    assert message(api, message_id)["status"] == "sent"


def test_a_low_balance_fails_permanently(api, hub, merchant, speedsms, hub_server):
    _, member = _setup(api, speedsms)
    speedsms.script("permanent")
    failed = message(api, _queue(hub, merchant, member))
    assert failed["status"] == "failed" and "code 300" in failed["reason"]


def test_a_wrong_token_fails_permanently(api, hub, merchant, speedsms, hub_server):
    connection_id, member = _setup(api, speedsms)
    api.patch(f"/api/v1/connections/{connection_id}", json={"secrets": {"access_token": "old"}})
    failed = message(api, _queue(hub, merchant, member))
    assert failed["status"] == "failed" and "HTTP 401" in failed["reason"]


def test_a_forged_report_changes_nothing(api, hub, merchant, speedsms, hub_server):
    _, member = _setup(api, speedsms)
    message_id = _queue(hub, merchant, member)
    report = {"type": "report", "tranId": speedsms.sent[0].tran_id, "status": 0}
    forged_url = speedsms.webhook_url.split("?")[0] + "?token=" + "f" * 40
    assert requests.post(forged_url, json=report, timeout=10).status_code == 401
    assert (
        requests.post(speedsms.webhook_url.split("?")[0], json=report, timeout=10).status_code
        == 401
    )
    assert message(api, message_id)["status"] == "sent"


def test_a_vietnamese_stop_reply_opts_the_number_out(api, hub, merchant, speedsms, hub_server):
    # Given a member; they reply "TỪ CHỐI" ("refuse"), as Vietnamese senders ask
    _, member = _setup(api, speedsms)
    assert speedsms.send_reply("84912345678", "Từ chối") == 200
    # Then the number is opted out of SMS and nothing reaches it
    assert [
        o["channel"] for o in api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"]
    ] == ["sms"]
    assert message(api, _queue(hub, merchant, member))["status"] == "skipped"
    assert speedsms.sent == []


def test_other_replies_change_nothing(api, hub, merchant, speedsms, hub_server):
    _, member = _setup(api, speedsms)
    assert speedsms.send_reply("84912345678", "Cho hỏi giờ mở cửa?") == 200
    assert api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"] == []
