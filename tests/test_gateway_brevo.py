"""Brevo through its simulator: the transactional e-mail API, and webhooks that turn
bounces, complaints and unsubscribes into opt-outs."""

from __future__ import annotations

import uuid
from datetime import datetime
from datetime import timedelta

from simulators import fixtures
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect_brevo
from simulators.fixtures import message

from hub import queue_message
from hub.messaging.delivery import release_due

brevo = fixtures.brevo
hub_server = fixtures.hub_server


def _setup(api, brevo, **kinds):
    connection_id = connect_brevo(api, brevo)
    configure(
        api,
        channel_order=["email"],
        connections={"email": connection_id},
        caps={"per_day": None, "per_week": None},
        kinds={name: {"enabled": True} for name in kinds or {"points_earned": {}}},
    )
    gateways = api.get("/api/v1/messaging/settings").json["gateways"]
    brevo.webhook_url = next(g for g in gateways if g["connection_id"] == connection_id)[
        "receipts_url"
    ]
    return connection_id


def _member(api, **extra):
    return add_member(api, email="lan@example.vn", **extra)


def _queue(hub, merchant, member, kind="points_earned", key="b1"):
    return queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind=kind,
        key=key,
        variables={"points_earned": 45, "next_tier": "Vàng", "needed": 200},
    )


def test_an_email_goes_through_brevo_and_its_delivered_event_marks_it_delivered(
    api, hub, merchant, brevo, hub_server
):
    _setup(api, brevo)
    member = _member(api)
    message_id = _queue(hub, merchant, member)
    # Brevo got the e-mail in its own shape, with both parts and the list headers
    (sent,) = brevo.sent
    body = sent.body
    assert body["sender"] == {"email": "tin@hoamai.vn", "name": "Cửa hàng Hoa Mai"}
    assert body["to"] == [{"email": "lan@example.vn"}]
    assert body["subject"].startswith("Cửa hàng Hoa Mai: ")
    assert "45" in body["textContent"] and "45" in body["htmlContent"]
    assert body["headers"]["List-Unsubscribe"].startswith(f"<{hub_server.base_url}/unsubscribe/")
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert body["headers"]["X-Mailin-custom"] == str(message_id)
    assert body["tags"] == ["points_earned"]
    accepted = message(api, message_id)
    assert (accepted["status"], accepted["gateway_message_id"]) == ("sent", sent.message_id)
    # When Brevo reports the delivery
    assert brevo.event("delivered", sent) == 200
    assert message(api, message_id)["status"] == "delivered"


def test_a_hard_bounce_fails_the_message_and_opts_the_address_out(
    api, hub, merchant, brevo, hub_server
):
    _setup(api, brevo)
    member = _member(api, consents={"email": True})
    message_id = _queue(hub, merchant, member)
    assert brevo.event("hard_bounce", brevo.sent[0], reason="550 mailbox unknown") == 200
    failed = message(api, message_id)
    assert failed["status"] == "failed" and "550 mailbox unknown" in failed["reason"]
    opt_outs = api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"]
    assert [(o["channel"], o["source"]) for o in opt_outs] == [("email", "brevo:hard_bounce")]
    consent = api.get(f"/api/v1/members/{member['id']}").json["consents"]["email"]
    assert consent["granted"] is False
    # The next e-mail to that address is not sent
    skipped = message(api, _queue(hub, merchant, member, key="b2"))
    assert skipped["status"] == "skipped" and "opted out" in skipped["reason"]
    assert len(brevo.sent) == 1


def test_a_spam_complaint_and_an_unsubscribe_at_brevo_become_opt_outs(
    api, hub, merchant, brevo, hub_server
):
    _setup(api, brevo)
    complainer = _member(api)
    leaver = add_member(api, "0987654321", email="minh@example.vn")
    _queue(hub, merchant, complainer)
    _queue(hub, merchant, leaver)
    first, second = brevo.sent
    assert brevo.event("spam", first) == 200
    assert brevo.event("unsubscribed", second) == 200
    for member, source in ((complainer, "brevo:complaint"), (leaver, "brevo:unsubscribed")):
        opt_outs = api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"]
        assert [(o["channel"], o["source"]) for o in opt_outs] == [("email", source)]


def test_a_soft_bounce_changes_nothing(api, hub, merchant, brevo, hub_server):
    _setup(api, brevo)
    member = _member(api)
    message_id = _queue(hub, merchant, member)
    assert brevo.event("soft_bounce", brevo.sent[0], reason="mailbox full") == 200
    assert message(api, message_id)["status"] == "sent"
    assert api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"] == []


def test_an_event_without_the_webhooks_bearer_token_changes_nothing(
    api, hub, merchant, brevo, hub_server
):
    connection_id = _setup(api, brevo)
    member = _member(api)
    _queue(hub, merchant, member)
    assert brevo.event("hard_bounce", brevo.sent[0], token="guess") == 401
    # Nor when the connection has no token to compare with
    api.patch(f"/api/v1/connections/{connection_id}", json={"secrets": {"webhook_token": ""}})
    assert brevo.event("hard_bounce", brevo.sent[0], token="") == 401
    assert api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"] == []


def test_a_rate_limit_is_retried_and_no_credits_fails_for_good(
    api, hub, merchant, brevo, hub_server
):
    _setup(api, brevo)
    member = _member(api)
    brevo.script("transient")
    held = message(api, _queue(hub, merchant, member))
    assert held["status"] == "held" and "429" in held["reason"]
    brevo.script("permanent")
    failed = message(api, _queue(hub, merchant, member, key="b2"))
    assert failed["status"] == "failed" and "not_enough_credits" in failed["reason"]


def test_a_wrong_api_key_fails_permanently(api, hub, merchant, brevo, hub_server):
    connection_id = _setup(api, brevo)
    api.patch(f"/api/v1/connections/{connection_id}", json={"secrets": {"api_key": "wrong"}})
    failed = message(api, _queue(hub, merchant, _member(api)))
    assert failed["status"] == "failed" and "401" in failed["reason"]


def test_a_retry_after_a_lost_answer_sends_the_email_once(api, hub, merchant, brevo, hub_server):
    # Given Brevo accepts an e-mail but its answer is lost on the way back
    _setup(api, brevo)
    member = _member(api)
    brevo.script("lost_answer")
    message_id = _queue(hub, merchant, member)
    held = message(api, message_id)
    assert held["status"] == "held" and "503" in held["reason"]
    # When the hub tries again
    release_due(hub, now=datetime.fromisoformat(held["due_at"]) + timedelta(minutes=2))
    # Then both attempts carried one key, and Brevo mailed the member once
    attempts = brevo.requests_to("/v3/smtp/email")
    keys = {request.json()["headers"]["idempotencyKey"] for request in attempts}
    assert len(attempts) == 2 and len(keys) == 1
    assert uuid.UUID(keys.pop()).version == 4
    (sent,) = brevo.sent
    accepted = message(api, message_id)
    assert (accepted["status"], accepted["gateway_message_id"]) == ("sent", sent.message_id)


def test_two_messages_carry_two_idempotency_keys(api, hub, merchant, brevo, hub_server):
    _setup(api, brevo)
    member = _member(api)
    _queue(hub, merchant, member, key="b1")
    _queue(hub, merchant, member, key="b2")
    assert len({sent.body["headers"]["idempotencyKey"] for sent in brevo.sent}) == 2
