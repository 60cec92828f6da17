"""Campaigns: written as drafts, scheduled, sent through the messaging pipeline, stopped."""

from __future__ import annotations

import logging
from datetime import timedelta

import campaign_fixtures
import pytest
import simulators.fixtures as simulators_fixtures
from campaign_fixtures import WITH_VOUCHER
from campaign_fixtures import act
from campaign_fixtures import add_member
from campaign_fixtures import campaign_row
from campaign_fixtures import new_campaign
from campaign_fixtures import results
from campaign_fixtures import sent_lines
from campaign_fixtures import vip_segment
from simulators.fixtures import configure
from sqlalchemy import select

from hub import utcnow
from hub.campaigns.sending import claim_chunk
from hub.campaigns.sweep import STALLED_AFTER
from hub.campaigns.sweep import sweep
from hub.models import CampaignRecipient
from hub.models import Voucher

daytime = simulators_fixtures.daytime

# Campaigns send advertising SMS "now": the merchant is where the legal window is open.
pytestmark = pytest.mark.usefixtures("daytime")

console = campaign_fixtures.console
outbox = campaign_fixtures.outbox
app_context = campaign_fixtures.app_context


def test_a_draft_is_written_read_listed_and_changed_through_the_api(api, console):
    segment_id = vip_segment(api)
    draft = new_campaign(api, segment_id=segment_id, holdout_percent=10, budget="100000")
    assert draft["state"] == "draft"
    assert draft["schedule"] == {"type": "now", "at": None, "every_days": None}
    assert draft["budget"] == "100000"
    changed = api.patch(f"/api/v1/campaigns/{draft['id']}", json={"name": "Tết"})
    assert changed.status_code == 200 and changed.json["name"] == "Tết"
    listed = api.get("/api/v1/campaigns").json["data"]
    assert [c["id"] for c in listed] == [draft["id"]]
    assert api.get(f"/api/v1/campaigns/{draft['id']}").json["name"] == "Tết"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "validation_error", "segment_id"),
        ({"segment_id": 999999}, "validation_error", "segment_id"),
        ({"recipients": ["0999999999"]}, "validation_error", "recipients"),
        ({"segment_id": "S", "channel": "fax"}, "validation_error", "channel"),
        ({"templates": {"vi": "{nope}"}, "segment": True}, "validation_error", "templates.vi"),
        ({"channel": "zalo", "segment": True}, "validation_error", "zalo_template"),
        ({"holdout_percent": 80, "segment": True}, "validation_error", "holdout_percent"),
        ({"schedule": {"type": "at"}, "segment": True}, "validation_error", "schedule"),
        ({"colour": "red", "segment": True}, "validation_error", "colour"),
    ],
)
def test_a_bad_campaign_is_refused_with_the_field_named(api, console, body, code, field):
    body = dict(body)
    if body.pop("segment", False) or body.get("segment_id") == "S":
        body["segment_id"] = vip_segment(api)
    response = api.post(
        "/api/v1/campaigns",
        json={"name": "X", "channel": "sms", "templates": {"vi": "Chào {name}"}, **body},
    )
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == code
    assert field in response.json["error"]["details"]


def test_a_channel_without_a_gateway_cannot_be_picked(api):
    response = api.post(
        "/api/v1/campaigns",
        json={
            "name": "X",
            "channel": "sms",
            "templates": {"vi": "Chào"},
            "segment_id": vip_segment(api),
        },
    )
    assert response.status_code == 422
    assert "no active gateway sends sms" in response.json["error"]["message"]


def test_sending_now_reaches_members_who_consented_and_logs_the_rest_as_skipped(
    api, hub, console, outbox
):
    # Given three VIP members, one without SMS consent, one reading English, and one non-VIP
    lan = add_member(api)
    add_member(api, consent=False)
    john = add_member(api, name="John Smith", attributes={"locale": "en"})
    add_member(api, tags=["new"])
    campaign = new_campaign(api, segment_id=vip_segment(api))
    # When the campaign is scheduled to go now
    scheduled = act(api, campaign["id"], "schedule")
    # Then it went to the two who said yes, each in their language, and it is done
    lines = sorted(sent_lines(outbox), key=lambda line: line["to"])
    assert [line["to"] for line in lines] == [lan["phone"], john["phone"]]
    # an advertising SMS: the [QC] mark first, the opt-out wording last (Vietnam's rules)
    assert lines[0]["text"] == (
        "[QC] Cua hang Hoa Mai: chao Lan, tuan le vang giam 20%! Tu choi nhan QC, tra loi TC"
    )
    assert lines[1]["text"] == (
        "[QC] Cua hang Hoa Mai: hi Smith, golden week: 20% off! Reply STOP to opt out"
    )
    assert scheduled["state"] == "done"
    figures = results(api, campaign["id"])
    assert (figures["targeted"], figures["held_out"]) == (3, 0)
    assert (figures["sent"], figures["delivered"], figures["skipped"]) == (2, 2, 1)
    assert figures["pending"] == 0
    assert figures["lift"]["measurable"] is False


def test_each_recipient_gets_a_voucher_of_their_own(api, hub, console, outbox):
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50k", "kind": "amount_off", "value": "50000", "points_cost": 100},
    ).json
    members = [add_member(api) for _ in range(3)]
    campaign = new_campaign(
        api, segment_id=vip_segment(api), reward_id=reward["id"], templates={"vi": WITH_VOUCHER}
    )
    act(api, campaign["id"], "schedule")
    with hub.db.session() as session:
        vouchers = session.scalars(select(Voucher)).all()
    assert sorted(v.member_id for v in vouchers) == sorted(m["id"] for m in members)
    assert len({v.code for v in vouchers}) == 3
    assert all(v.points == 0 for v in vouchers)
    codes = sorted(line["text"].split("ma ")[1].split(" ")[0] for line in sent_lines(outbox))
    assert codes == sorted(v.code for v in vouchers)


def test_a_control_group_is_held_out_and_gets_nothing(api, hub, console, outbox):
    members = [add_member(api) for _ in range(40)]
    campaign = new_campaign(api, segment_id=vip_segment(api), holdout_percent=50)
    act(api, campaign["id"], "schedule")
    with hub.db.session() as session:
        groups = dict(
            session.execute(select(CampaignRecipient.member_id, CampaignRecipient.group)).all()
        )
    held = {member_id for member_id, group in groups.items() if group == "control"}
    phones = {m["id"]: m["phone"] for m in members}
    sent_to = {line["to"] for line in sent_lines(outbox)}
    assert 0 < len(held) < 40
    assert sent_to == {phones[i] for i in phones if i not in held}
    figures = results(api, campaign["id"])
    assert figures["held_out"] == len(held)
    assert figures["targeted"] == 40 - len(held)


def test_an_uploaded_list_of_phones_and_codes_is_the_audience(api, hub, console, outbox):
    lan, binh, _other = add_member(api), add_member(api), add_member(api)
    entries = [lan["phone"].replace("+84", "0"), binh["code"].lower(), "0999999999"]
    campaign = new_campaign(api, recipients=entries)
    assert campaign["audience"] == "list"
    assert campaign["list_size"] == 2
    assert campaign["unmatched"] == ["0999999999"]
    act(api, campaign["id"], "schedule")
    assert sorted(line["to"] for line in sent_lines(outbox)) == sorted(
        [lan["phone"], binh["phone"]]
    )


def test_a_scheduled_campaign_cannot_be_rewritten(api, console):
    add_member(api)
    later = (utcnow() + timedelta(days=1)).isoformat()
    campaign = new_campaign(api, segment_id=vip_segment(api), schedule={"type": "at", "at": later})
    assert act(api, campaign["id"], "schedule")["state"] == "scheduled"
    response = api.patch(f"/api/v1/campaigns/{campaign['id']}", json={"name": "Y"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "campaign_not_draft"
    again = act(api, campaign["id"], "schedule", status=409)
    assert again["error"]["code"] == "campaign_state"


def test_an_empty_audience_cannot_be_scheduled(api, console):
    campaign = new_campaign(api, segment_id=vip_segment(api))
    response = act(api, campaign["id"], "schedule", status=409)
    assert response["error"]["code"] == "campaign_audience_empty"


def test_a_member_who_opts_out_between_scheduling_and_sending_gets_nothing(
    api, hub, console, outbox, app_context
):
    # Given a campaign scheduled for tomorrow morning, for two members
    stays, leaves = add_member(api), add_member(api)
    at = utcnow() + timedelta(days=1)
    campaign = new_campaign(
        api, segment_id=vip_segment(api), schedule={"type": "at", "at": at.isoformat()}
    )
    act(api, campaign["id"], "schedule")
    # When one of them replies STOP (opts out) before then, and the time comes
    response = api.post(f"/api/v1/members/{leaves['id']}/opt-outs", json={"channel": "sms"})
    assert response.status_code == 201
    assert sweep(hub, now=at - timedelta(minutes=1)) == {"started": 0, "restarted": 0}
    assert sent_lines(outbox) == []
    assert sweep(hub, now=at)["started"] == 1
    # Then only the other gets the message; the one who left is logged as skipped
    assert [line["to"] for line in sent_lines(outbox)] == [stays["phone"]]
    figures = results(api, campaign["id"], run=1)
    assert (figures["sent"], figures["skipped"]) == (1, 1)
    assert figures["opted_out_after"] == 0  # opted out before the run began


def test_a_worker_lost_after_writing_a_chunk_is_restarted_and_sends_each_once(
    api, hub, console, outbox, app_context
):
    # Given a campaign scheduled for later, and its run started without its jobs
    members = [add_member(api) for _ in range(5)]
    at = utcnow() + timedelta(hours=1)
    campaign = new_campaign(
        api, segment_id=vip_segment(api), schedule={"type": "at", "at": at.isoformat()}
    )
    act(api, campaign["id"], "schedule")
    hub.jobs.enqueue_many = lambda calls: 0  # the queue loses the run's jobs
    assert sweep(hub, now=at)["started"] == 1
    # When a worker writes a chunk of messages and dies before sending them
    chunk = claim_chunk(hub, campaign["id"], 1, at)
    assert len(chunk.message_ids) == 5 and sent_lines(outbox) == []
    del hub.jobs.enqueue_many
    # Then nothing happens while the run looks alive; once stalled, the sweep restarts it
    assert sweep(hub, now=at + STALLED_AFTER - timedelta(seconds=1))["restarted"] == 0
    assert sweep(hub, now=at + STALLED_AFTER + timedelta(seconds=1))["restarted"] == 1
    # And every member got the message exactly once
    assert sorted(line["to"] for line in sent_lines(outbox)) == sorted(m["phone"] for m in members)
    assert campaign_row(hub, campaign["id"]).state == "done"


@pytest.mark.parametrize("action", ["pause", "cancel"])
def test_pausing_or_cancelling_mid_send_stops_at_the_next_message_and_keeps_what_was_sent(
    api, hub, merchant, console, outbox, action
):
    members = [add_member(api) for _ in range(8)]
    campaign = new_campaign(api, segment_id=vip_segment(api))
    # The console gateway is wrapped: after its third message, the merchant presses the button
    gateway = hub.connector("console")
    original = gateway.send
    calls = []

    def send_then_press(hub_, connection, message):
        result = original(hub_, connection, message)
        calls.append(message.to)
        if len(calls) == 3:
            act(api, campaign["id"], action)
        return result

    gateway.send = send_then_press
    try:
        act(api, campaign["id"], "schedule")
    finally:
        gateway.send = original
    assert len(sent_lines(outbox)) == 3
    figures = results(api, campaign["id"])
    assert figures["sent"] == 3
    assert figures["state"] == ("paused" if action == "pause" else "cancelled")
    if action == "cancel":
        assert figures["pending"] == 0
        return
    # When the merchant resumes, the rest go out, nobody twice
    assert act(api, campaign["id"], "resume")["state"] == "done"
    phones = [line["to"] for line in sent_lines(outbox)]
    assert sorted(phones) == sorted(m["phone"] for m in members)
    assert results(api, campaign["id"])["sent"] == 8


def test_a_run_due_in_quiet_hours_waits_for_the_morning_in_the_merchants_timezone(
    api, hub, console, outbox, app_context
):
    # Given quiet hours 21:00 to 08:00, and a campaign due at 22:30 in Ho Chi Minh City
    simulators_fixtures.in_hanoi(api)
    configure(
        api,
        channel_order=["sms"],
        connections={"sms": console},
        quiet_hours={"enabled": True, "start": "21:00", "end": "08:00"},
    )
    members = [add_member(api) for _ in range(3)]
    # 15:30 UTC is 22:30 in Ho Chi Minh City; two days ahead, so it is still to come
    late = (utcnow() + timedelta(days=2)).replace(hour=15, minute=30, second=0, microsecond=0)
    campaign = new_campaign(
        api, segment_id=vip_segment(api), schedule={"type": "at", "at": late.isoformat()}
    )
    act(api, campaign["id"], "schedule")
    # When its time comes, the run starts but nothing is sent
    assert sweep(hub, now=late)["started"] == 1
    assert sent_lines(outbox) == []
    assert sweep(hub, now=late + timedelta(hours=9))["restarted"] == 1  # 07:30: still quiet
    assert sent_lines(outbox) == []
    # Then the first sweep after 08:00 sends it
    assert sweep(hub, now=late + timedelta(hours=9, minutes=35))["restarted"] == 1
    assert sorted(line["to"] for line in sent_lines(outbox)) == sorted(m["phone"] for m in members)
    assert campaign_row(hub, campaign["id"]).state == "done"


def test_a_job_past_its_time_hands_the_rest_to_a_new_job_and_each_member_gets_one(
    api, hub, console, outbox, caplog
):
    # Given a job time so short that every job is past it after one chunk (50 messages)
    hub.config["HUB_JOB_TIMEOUT"] = 0
    members = [add_member(api) for _ in range(60)]
    campaign = new_campaign(api, segment_id=vip_segment(api))
    # When it is sent
    with caplog.at_level(logging.INFO, logger="hub.campaigns.sending"):
        act(api, campaign["id"], "schedule")
    # Then the first job sent a chunk and handed the rest on, part by part
    handed = [r.getMessage() for r in caplog.records if "hands over" in r.getMessage()]
    assert handed[:2] == [
        f"campaign {campaign['id']} run 1: slot 0 hands over to part 1",
        f"campaign {campaign['id']} run 1: slot 0 hands over to part 2",
    ]
    # And every member got the message exactly once, and the run is done
    phones = [line["to"] for line in sent_lines(outbox)]
    assert sorted(phones) == sorted(m["phone"] for m in members)
    assert results(api, campaign["id"])["sent"] == 60
    assert api.get(f"/api/v1/campaigns/{campaign['id']}").json["state"] == "done"
