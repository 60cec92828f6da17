"""eSMS.vn through its simulator: sends, retries, failures, receipts, forged receipts."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import requests
from simulators import fixtures
from simulators.fixtures import E164
from simulators.fixtures import PHONE
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect_esms
from simulators.fixtures import message
from simulators.fixtures import sms_only

from hub import queue_message
from hub.messaging.callbacks import callback_url
from hub.messaging.delivery import release_due
from hub.models import Connection

esms = fixtures.esms
hub_server = fixtures.hub_server


def _queue(hub, merchant, member, key="e1", points=45):
    return queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind="points_earned",
        key=key,
        variables={"points_earned": points},
    )


def _setup(api, esms, **settings):
    connection_id = connect_esms(api, esms)
    configure(api, **sms_only(connection_id, points_earned={}), **settings)
    return connection_id, add_member(api)


def test_an_sms_goes_out_in_esms_form_and_its_receipt_marks_it_delivered(
    api, hub, merchant, esms, hub_server
):
    # Given a merchant sending points messages by SMS through eSMS
    connection_id, member = _setup(api, esms)
    # When a message is queued
    message_id = _queue(hub, merchant, member)
    # Then eSMS got it: national number, our id as RequestId, no diacritics
    sent = esms.sent[0]
    assert sent.phone == PHONE
    assert sent.request_id == str(message_id)
    assert not sent.unicode
    assert "vua duoc cong 45 diem" in sent.content
    assert sent.callback_url.startswith(f"{hub_server.base_url}/messaging/esms/{connection_id}/")
    sending = message(api, message_id)
    assert sending["status"] == "sent"
    assert sending["gateway_message_id"] == sent.smsid
    assert sending["recipient"] == E164
    assert sending["encoding"] == "GSM-7" and sending["segments"] == 1
    # When eSMS calls back: sent successfully
    assert esms.deliver_receipts("5") == [200]
    # Then the message is delivered, with eSMS's price
    delivered = message(api, message_id)
    assert delivered["status"] == "delivered"
    assert delivered["cost"] == "770" and delivered["cost_currency"] == "VND"


def test_a_merchant_who_chooses_unicode_sends_diacritics(api, hub, merchant, esms, hub_server):
    _setup(api, esms, unicode=True)
    message_id = _queue(hub, merchant, add_member(api, "0987654321"))
    assert esms.sent[0].unicode
    assert "vừa được cộng 45 điểm" in esms.sent[0].content
    assert message(api, message_id)["encoding"] == "UCS-2"


def test_an_unknown_error_is_retried_with_backoff_then_succeeds(
    api, hub, merchant, esms, hub_server
):
    # Given eSMS answers "99 unknown error" once
    _, member = _setup(api, esms)
    esms.script("transient")
    # When a message is queued
    message_id = _queue(hub, merchant, member)
    # Then it waits for a retry ten seconds on, nothing sent
    held = message(api, message_id)
    assert held["status"] == "held"
    assert "CodeResult 99" in held["reason"]
    assert esms.sent == []
    due = datetime.fromisoformat(held["due_at"])
    created = datetime.fromisoformat(held["created_at"])
    assert timedelta(seconds=9) <= due - created <= timedelta(seconds=11)
    # When the sweep runs after that time
    release_due(hub, now=due + timedelta(minutes=2))
    # Then it goes out on the second attempt
    assert len(esms.sent) == 1
    sent = message(api, message_id)
    assert sent["status"] == "sent" and sent["attempts"] == 2


def test_a_server_error_is_transient_too(api, hub, merchant, esms, hub_server):
    _, member = _setup(api, esms)
    esms.script("http500")
    message_id = _queue(hub, merchant, member)
    assert message(api, message_id)["status"] == "held"


def test_insufficient_balance_fails_the_message_for_good(api, hub, merchant, esms, hub_server):
    _, member = _setup(api, esms)
    esms.script("permanent")
    message_id = _queue(hub, merchant, member)
    failed = message(api, message_id)
    assert failed["status"] == "failed"
    assert "CodeResult 104" in failed["reason"]
    # and the sweep does not try it again
    release_due(hub, now=datetime.fromisoformat(failed["created_at"]) + timedelta(days=1))
    assert esms.sent == []


def test_wrong_keys_fail_permanently(api, hub, merchant, esms, hub_server):
    connection_id, member = _setup(api, esms)
    api.patch(f"/api/v1/connections/{connection_id}", json={"secrets": {"secret_key": "wrong"}})
    message_id = _queue(hub, merchant, member)
    assert "CodeResult 101" in message(api, message_id)["reason"]


def test_a_resend_of_a_request_esms_already_took_counts_as_sent(
    api, hub, merchant, esms, hub_server
):
    # Given eSMS accepted RequestId 1 before (a retry after a lost answer)
    _, member = _setup(api, esms)
    message_id = _queue(hub, merchant, member)
    esms.sent[0].request_id = str(message_id + 1)
    # When the next message carries that RequestId
    second = _queue(hub, merchant, member, key="e2")
    # Then eSMS answers 124 and the hub does not fail it
    assert second == message_id + 1
    assert message(api, second)["status"] == "sent"
    assert len(esms.sent) == 1


def test_a_rejected_receipt_fails_the_message(api, hub, merchant, esms, hub_server):
    _, member = _setup(api, esms)
    message_id = _queue(hub, merchant, member)
    assert esms.deliver_receipts("4") == [200]
    assert message(api, message_id)["status"] == "failed"


def test_a_forged_receipt_changes_nothing(app, api, hub, merchant, esms, hub_server):
    # Given a sent message
    connection_id, member = _setup(api, esms)
    message_id = _queue(hub, merchant, member)
    smsid = esms.sent[0].smsid
    base = f"{hub_server.base_url}/messaging/esms/{connection_id}/receipts"
    forged = {"SMSID": smsid, "SendStatus": "5", "RequestId": str(message_id)}
    # When someone calls the receipts URL without the token, or with a wrong one
    no_token = requests.get(base, params=forged, timeout=10)
    wrong = requests.get(base, params={**forged, "token": "0" * 40}, timeout=10)
    # Or with the token of another connection
    other_id = connect_esms(api, esms)
    with hub.db.session() as session:
        other_url = callback_url(hub, session.get(Connection, other_id))
    token = other_url.split("token=")[1]
    borrowed = requests.get(base, params={**forged, "token": token}, timeout=10)
    # Then each is refused and the message is still only sent
    assert [no_token.status_code, wrong.status_code, borrowed.status_code] == [401, 401, 401]
    assert no_token.json()["error"]["code"] == "unauthorized"
    assert message(api, message_id)["status"] == "sent"


def test_a_receipt_delivered_twice_changes_nothing_more(api, hub, merchant, esms, hub_server):
    _, member = _setup(api, esms)
    message_id = _queue(hub, merchant, member)
    receipt_url = esms.sent[0].callback_url
    esms.deliver_receipts("5")
    first = message(api, message_id)
    # eSMS retries the callback (up to 5 times), then a late "waiting" status arrives
    params = {"SMSID": esms.sent[0].smsid, "SendStatus": "5", "RequestId": str(message_id)}
    assert requests.get(receipt_url, params=params, timeout=10).status_code == 200
    params["SendStatus"] = "7"
    assert requests.get(receipt_url, params=params, timeout=10).status_code == 200
    again = message(api, message_id)
    assert again["status"] == "delivered"
    assert again["delivered_at"] == first["delivered_at"]


def _short_code(api, esms, connection_id):
    """The merchant's short code at eSMS: its cpid and private key, and the inbound URL."""
    response = api.patch(
        f"/api/v1/connections/{connection_id}",
        json={"settings": {"cpid": esms.cpid}, "secrets": {"mo_private_key": esms.mo_private_key}},
    )
    assert response.status_code == 200, response.json
    gateways = api.get("/api/v1/messaging/settings").json["gateways"]
    return next(g for g in gateways if g["connection_id"] == connection_id)["inbound_url"]


def test_a_tc_reply_to_the_short_code_opts_the_number_out_and_is_confirmed(
    api, hub, merchant, esms, hub_server
):
    connection_id, member = _setup(api, esms)
    api.patch(f"/api/v1/members/{member['id']}", json={"consents": {"sms": True}})
    inbound_url = _short_code(api, esms, connection_id)
    # When the member texts "TC" to the short code
    answer = esms.send_mo(inbound_url, "84912345678", "TC")
    # Then eSMS gets its XML answer, with a confirmation to send back
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/xml")
    assert "<Message>Ban da tu choi nhan tin quang cao." in answer.text
    assert "<Receiver>84912345678</Receiver>" in answer.text
    # And the number is opted out of SMS at once, its consent withdrawn
    opt_outs = api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"]
    assert [(o["channel"], o["source"]) for o in opt_outs] == [("sms", "reply_stop")]
    assert api.get(f"/api/v1/members/{member['id']}").json["consents"]["sms"]["granted"] is False
    skipped = message(api, _queue(hub, merchant, member, key="after"))
    assert skipped["status"] == "skipped" and "opted out" in skipped["reason"]


def test_another_reply_to_the_short_code_changes_nothing(api, hub, merchant, esms, hub_server):
    connection_id, member = _setup(api, esms)
    inbound_url = _short_code(api, esms, connection_id)
    answer = esms.send_mo(inbound_url, "84912345678", "Cho hoi gio mo cua?")
    assert answer.status_code == 200 and "<Message></Message>" in answer.text
    assert api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"] == []


def test_a_reply_with_a_wrong_sign_or_another_cpid_changes_nothing(
    api, hub, merchant, esms, hub_server
):
    connection_id, member = _setup(api, esms)
    inbound_url = _short_code(api, esms, connection_id)
    assert esms.send_mo(inbound_url, "84912345678", "TC", key="guess").status_code == 401
    assert esms.send_mo(inbound_url, "84912345678", "TC", cpid="CP9999").status_code == 401
    assert api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"] == []


def test_replies_are_refused_until_the_short_code_is_set_up(api, hub, merchant, esms, hub_server):
    connection_id, member = _setup(api, esms)
    gateways = api.get("/api/v1/messaging/settings").json["gateways"]
    inbound_url = next(g for g in gateways if g["connection_id"] == connection_id)["inbound_url"]
    assert esms.send_mo(inbound_url, "84912345678", "TC").status_code == 401
    assert api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"] == []
