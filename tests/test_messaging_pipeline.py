"""The rules a real sender keeps: consent, opt-outs, quiet hours, caps, budget, dedupe."""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from simulators import fixtures
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect
from simulators.fixtures import connect_esms
from simulators.fixtures import message
from simulators.fixtures import messages_of

from hub import queue_message
from hub import utcnow
from hub.messaging.delivery import STALE_AFTER
from hub.messaging.delivery import deliver_message
from hub.messaging.delivery import release_due
from hub.messaging.models import Message

esms = fixtures.esms

#: 22:30 in Ho Chi Minh City (UTC+7), inside the default quiet hours.
LATE_EVENING = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
#: 08:00 the next morning there, when the quiet hours end.
NEXT_MORNING = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
NOON = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)


@pytest.fixture
def outbox(hub, merchant, tmp_path):
    """The merchant's file in the console gateway's folder, which the operator configures."""
    folder = tmp_path / "console"
    hub.config["HUB_PLUGINS_CONFIG"] = {
        **hub.config.get("HUB_PLUGINS_CONFIG", {}),
        "console": {"directory": str(folder)},
    }
    return folder / f"merchant-{merchant.id}.jsonl"


@pytest.fixture
def console(api, outbox):
    return connect(api, "console", settings={}, secrets={})


def sent_lines(outbox) -> list[dict]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text().splitlines()]


def _settings(console, *kinds, **extra):
    return {
        "channel_order": ["sms"],
        "connections": {"sms": console},
        "kinds": {kind: {"enabled": True} for kind in kinds},
        **extra,
    }


def _queue(hub, merchant, member, kind="points_earned", key="k1", now=NOON, **variables):
    defaults = {"points_earned": 45, "next_tier": "Vàng", "needed": 200}
    return queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind=kind,
        key=key,
        variables={**defaults, **variables},
        now=now,
    )


def test_a_marketing_message_goes_only_to_members_who_consented_on_the_channel(
    api, hub, merchant, console, outbox
):
    # Given a marketing kind (near the next tier) on, by SMS
    configure(api, **_settings(console, "tier_near"))
    without = add_member(api, "0912345678")
    with_consent = add_member(api, "0987654321", consents={"sms": True})
    zalo_only = add_member(api, "0901234567", consents={"zalo": True})
    # When each is sent one
    skipped = message(api, _queue(hub, merchant, without, kind="tier_near"))
    sent = message(api, _queue(hub, merchant, with_consent, kind="tier_near"))
    other = message(api, _queue(hub, merchant, zalo_only, kind="tier_near"))
    # Then only the member who said yes to SMS gets it; the others are logged as skipped
    assert (skipped["status"], skipped["reason"]) == (
        "skipped",
        "no channel can reach this member: sms: no consent",
    )
    assert skipped["body"].startswith("Lan ơi, chỉ còn 200 nữa")  # logged as it would have gone
    assert sent["status"] == "delivered"
    assert other["status"] == "skipped"
    assert [line["to"] for line in sent_lines(outbox)] == ["+84987654321"]


def test_transactional_messages_need_consent_only_if_the_merchant_says_so(
    api, hub, merchant, console
):
    member = add_member(api)
    configure(api, **_settings(console, "points_earned"))
    assert message(api, _queue(hub, merchant, member, key="a"))["status"] == "delivered"
    configure(api, **_settings(console, "points_earned", transactional_needs_consent=True))
    assert message(api, _queue(hub, merchant, member, key="b"))["status"] == "skipped"


def test_quiet_hours_hold_a_message_until_the_morning_in_the_merchants_timezone(
    api, hub, merchant, console, outbox
):
    # Given the default quiet hours (21:00 to 08:00), and 22:30 in Ho Chi Minh City
    configure(api, **_settings(console, "points_earned", quiet_hours={"enabled": True}))
    member = add_member(api)
    # When a message is queued
    message_id = _queue(hub, merchant, member, now=LATE_EVENING)
    # Then it is held until 08:00 there, and nothing is sent
    held = message(api, message_id)
    assert held["status"] == "held"
    assert datetime.fromisoformat(held["due_at"]) == NEXT_MORNING
    assert sent_lines(outbox) == []
    # When the sweep runs before eight, nothing moves; just after, it goes out
    release_due(hub, now=NEXT_MORNING - timedelta(minutes=30))
    assert message(api, message_id)["status"] == "held"
    release_due(hub, now=NEXT_MORNING + timedelta(minutes=2))
    assert message(api, message_id)["status"] == "delivered"
    assert len(sent_lines(outbox)) == 1


def test_quiet_hours_follow_the_merchants_timezone(api, hub, merchant, console):
    # Given a merchant in Paris: 15:30 UTC is 16:30 there, not quiet
    api.patch("/api/v1/merchant", json={"timezone": "Europe/Paris"})
    configure(api, **_settings(console, "points_earned", quiet_hours={"enabled": True}))
    assert message(api, _queue(hub, merchant, add_member(api), now=LATE_EVENING))["status"] == (
        "delivered"
    )


@pytest.fixture
def hub_config(request):
    if getattr(request, "param", None) == "redis":
        return {
            "HUB_REDIS_URL": request.getfixturevalue("redis_url"),
            "HUB_REDIS_PREFIX": request.getfixturevalue("redis_prefix"),
        }
    return {}


@pytest.mark.parametrize("hub_config", ["redis"], indirect=True)
def test_with_redis_a_held_message_is_scheduled_for_the_end_of_quiet_hours(
    api, hub, merchant, console
):
    from rq.registry import ScheduledJobRegistry

    from hub.testing import run_jobs

    # Given quiet hours around the present moment in Ho Chi Minh City
    local = utcnow() + timedelta(hours=7)
    quiet = {
        "enabled": True,
        "start": (local - timedelta(hours=1)).strftime("%H:%M"),
        "end": (local + timedelta(hours=2)).strftime("%H:%M"),
    }
    configure(api, **_settings(console, "points_earned", quiet_hours=quiet))
    # When a message is queued and a worker takes it
    message_id = _queue(hub, merchant, add_member(api), now=None)
    run_jobs(hub, queues=["messages"])
    # Then it is held, and rq has a job scheduled for the end of the quiet hours
    held = message(api, message_id)
    assert held["status"] == "held"
    due = datetime.fromisoformat(held["due_at"])
    registry = ScheduledJobRegistry(hub.jobs.queue_name("messages"), connection=hub.jobs.redis)
    job_id = hub.jobs.job_id(f"msg-{message_id}-{int(due.timestamp())}")
    assert registry.get_scheduled_time(job_id) == due.replace(microsecond=0)


def test_an_opt_out_by_api_stops_a_message_already_held(api, hub, merchant, console, outbox):
    # Given a message held for the night
    configure(api, **_settings(console, "points_earned", quiet_hours={"enabled": True}))
    member = add_member(api)
    message_id = _queue(hub, merchant, member, now=LATE_EVENING)
    # When the merchant opts the member's number out of everything
    response = api.post(f"/api/v1/members/{member['id']}/opt-outs", json={"channel": "all"})
    assert response.status_code == 201
    assert sorted(o["channel"] for o in response.json["data"]) == ["sms", "zalo"]
    # Then in the morning it is not sent
    release_due(hub, now=NEXT_MORNING + timedelta(minutes=2))
    skipped = message(api, message_id)
    assert skipped["status"] == "skipped" and "opted out" in skipped["reason"]
    assert sent_lines(outbox) == []
    # And lifting the opt-out lets the next one through
    assert api.delete(f"/api/v1/members/{member['id']}/opt-outs/sms").status_code == 204
    assert message(api, _queue(hub, merchant, member, key="k2"))["status"] == "delivered"


def test_the_frequency_cap_skips_marketing_messages_past_it(api, hub, merchant, console, outbox):
    settings = _settings(console, "tier_near", "points_earned")
    configure(api, **settings, caps={"per_day": 2, "per_week": None})
    member = add_member(api, consents={"sms": True})
    statuses = [
        message(api, _queue(hub, merchant, member, kind="tier_near", key=k))["status"]
        for k in "abc"
    ]
    assert statuses == ["delivered", "delivered", "skipped"]
    assert "cap 2" in messages_of(api, member["id"])[0]["reason"]
    # A transactional message still goes: caps never block points, vouchers or tiers
    assert message(api, _queue(hub, merchant, member, key="t"))["status"] == "delivered"
    # A day later the member can be written to again
    later = _queue(
        hub, merchant, member, kind="tier_near", key="d", now=NOON + timedelta(days=1, minutes=1)
    )
    assert message(api, later)["status"] == "delivered"


def test_transactional_messages_do_not_count_against_the_marketing_cap(api, hub, merchant, console):
    configure(
        api, **_settings(console, "tier_near", "points_earned"), caps={"per_day": 1, "per_week": 1}
    )
    member = add_member(api, consents={"sms": True})
    for key in "abc":
        assert message(api, _queue(hub, merchant, member, key=key))["status"] == "delivered"
    offer = _queue(hub, merchant, member, kind="tier_near", key="offer")
    assert message(api, offer)["status"] == "delivered"


def test_the_daily_budget_stops_sending_when_spent(api, hub, merchant, esms):
    # Given 770 a message (the connection's price) and a budget of 1,600 a day
    connection_id = connect_esms(api, esms)
    configure(
        api,
        channel_order=["sms"],
        connections={"sms": connection_id},
        daily_budget="1600",
        kinds={"points_earned": {"enabled": True}},
    )
    members = [add_member(api, phone) for phone in ("0912345678", "0987654321", "0901234567")]
    # When three members are each sent one
    statuses = [message(api, _queue(hub, merchant, m))["status"] for m in members]
    # Then the third would overspend and is skipped
    assert statuses == ["sent", "sent", "skipped"]
    assert "daily budget of 1600 VND" in messages_of(api, members[2]["id"])[0]["reason"]
    assert len(esms.sent) == 2
    # The next local day has a fresh budget
    tomorrow = _queue(hub, merchant, members[2], key="k2", now=NOON + timedelta(days=1))
    assert message(api, tomorrow)["status"] == "sent"


def test_the_daily_limit_counts_messages(api, hub, merchant, console):
    configure(api, **_settings(console, "points_earned", daily_limit=1))
    first, second = add_member(api, "0912345678"), add_member(api, "0987654321")
    assert message(api, _queue(hub, merchant, first))["status"] == "delivered"
    assert "daily limit of 1" in message(api, _queue(hub, merchant, second))["reason"]


def test_the_same_cause_is_queued_once_and_a_retried_job_sends_nothing_new(
    app, api, hub, merchant, console, outbox
):
    configure(api, **_settings(console, "points_earned"))
    member = add_member(api)
    first = _queue(hub, merchant, member, key="event-1")
    again = _queue(hub, merchant, member, key="event-1")
    assert again is None
    with app.app_context():
        assert deliver_message(first) == "delivered"  # the job run again
    assert len(sent_lines(outbox)) == 1
    assert len(messages_of(api, member["id"])) == 1


def test_a_kind_that_is_off_queues_nothing(api, hub, merchant, console, outbox):
    configure(api, **_settings(console))
    assert _queue(hub, merchant, add_member(api)) is None
    assert sent_lines(outbox) == []


def test_a_kind_switched_off_while_a_message_is_held_is_not_sent(api, hub, merchant, console):
    configure(api, **_settings(console, "points_earned", quiet_hours={"enabled": True}))
    message_id = _queue(hub, merchant, add_member(api), now=LATE_EVENING)
    configure(api, **_settings(console, quiet_hours={"enabled": True}))
    release_due(hub, now=NEXT_MORNING + timedelta(minutes=2))
    skipped = message(api, message_id)
    assert (
        skipped["status"] == "skipped"
        and "switched 'points_earned' messages off" in skipped["reason"]
    )


def test_a_member_without_a_phone_is_skipped_at_once(api, hub, merchant, console):
    configure(api, **_settings(console, "points_earned"))
    member = api.post("/api/v1/members", json={"email": "an@example.vn", "name": "An"}).json
    skipped = message(api, _queue(hub, merchant, member))
    assert skipped["status"] == "skipped" and "no phone number" in skipped["reason"]


def test_a_long_vietnamese_sms_is_sent_without_diacritics_in_gsm_parts(
    api, hub, merchant, console, outbox
):
    template = "Cảm ơn {first_name}! " + "Ưu đãi đặc biệt dành riêng cho bạn. " * 6
    settings = _settings(console)
    settings["kinds"] = {"points_earned": {"enabled": True, "templates": {"vi": template}}}
    configure(api, **settings)
    sent = message(api, _queue(hub, merchant, add_member(api)))
    text = sent_lines(outbox)[0]["text"]
    assert text.startswith("Cam on Lan! Uu dai dac biet danh rieng cho ban.")
    assert (sent["encoding"], sent["segments"]) == ("GSM-7", 2)
    assert sent["body"].startswith("Cảm ơn Lan!")


def test_the_sweep_fails_a_message_whose_worker_died_mid_send(api, hub, merchant, console):
    configure(api, **_settings(console, "points_earned", quiet_hours={"enabled": True}))
    message_id = _queue(hub, merchant, add_member(api), now=LATE_EVENING)
    with hub.db.transaction() as session:
        row = session.get(Message, message_id)
        row.status, row.claimed_at = "sending", LATE_EVENING
    release_due(hub, now=LATE_EVENING + STALE_AFTER + timedelta(minutes=1))
    failed = message(api, message_id)
    assert failed["status"] == "failed" and "not sent again" in failed["reason"]


def test_erasing_a_member_scrubs_their_messages(api, hub, merchant, console):
    configure(api, **_settings(console, "points_earned"))
    member = add_member(api)
    message_id = _queue(hub, merchant, member)
    assert api.delete(f"/api/v1/members/{member['id']}").status_code == 204
    scrubbed = message(api, message_id)
    assert (scrubbed["recipient"], scrubbed["body"]) == (None, "")
    assert scrubbed["status"] == "delivered"


def test_merging_members_keeps_both_logs_and_their_dedupe(api, hub, merchant, console):
    configure(api, **_settings(console, "points_earned"))
    one, two = add_member(api, "0912345678"), add_member(api, "0987654321")
    _queue(hub, merchant, one, key="same")
    _queue(hub, merchant, two, key="same")
    merged = api.post(f"/api/v1/members/{one['id']}/merge", json={"from_member_id": two["id"]})
    assert merged.status_code == 200, merged.json
    assert len(messages_of(api, one["id"])) == 2


def test_the_release_command_sends_held_messages_that_are_due(
    api, hub, merchant, console, outbox, runner
):
    # Given a message held a month ago whose quiet hours have long ended
    configure(api, **_settings(console, "points_earned", quiet_hours={"enabled": True}))
    message_id = _queue(hub, merchant, add_member(api), now=LATE_EVENING - timedelta(days=30))
    assert message(api, message_id)["status"] == "held"
    configure(api, **_settings(console, "points_earned"))
    # When the operator runs the command (cron, without Redis)
    result = runner.invoke(args=["messages", "release"])
    # Then it goes out
    assert result.exit_code == 0, result.output
    assert "1 messages released" in result.output
    assert message(api, message_id)["status"] == "delivered"
