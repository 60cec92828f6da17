"""Vietnam's rules for advertising messages (Decree 91/2020/ND-CP), one test each.

Marketing kinds advertise (near the next tier, birthday, win-back);
transactional ones (points earned, a voucher, a tier change) do not, and no
advertising rule ever holds them back.
"""

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

from hub import queue_message
from hub.messaging.advertising import advertising_sms
from hub.messaging.advertising import sms_window_end
from hub.messaging.delivery import release_due

esms = fixtures.esms

#: 22:30 in Ho Chi Minh City (UTC+7): past the advertising window.
LATE_EVENING = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
#: 07:00 the next morning there.
SEVEN_NEXT_MORNING = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
NOON = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)


@pytest.fixture
def outbox(hub, merchant, tmp_path):
    folder = tmp_path / "console"
    hub.config["HUB_PLUGINS_CONFIG"] = {
        **hub.config.get("HUB_PLUGINS_CONFIG", {}),
        "console": {"directory": str(folder)},
    }
    return folder / f"merchant-{merchant.id}.jsonl"


@pytest.fixture
def console(api, outbox):
    return connect(api, "console", settings={}, secrets={})


def sent_texts(outbox) -> list[str]:
    if not outbox.exists():
        return []
    return [json.loads(line)["text"] for line in outbox.read_text().splitlines()]


def _settings(console, *kinds, **extra):
    return {
        "channel_order": ["sms"],
        "connections": {"sms": console},
        "caps": {"per_day": None, "per_week": None},
        "kinds": {kind: {"enabled": True} for kind in kinds},
        **extra,
    }


def _queue(hub, merchant, member, kind="tier_near", key="k1", now=NOON):
    return queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind=kind,
        key=key,
        variables={"points_earned": 45, "next_tier": "Vàng", "needed": 200},
        now=now,
    )


@pytest.mark.db_agnostic
def test_the_advertising_window_is_seven_to_ten_in_the_merchants_timezone():
    assert sms_window_end("Asia/Ho_Chi_Minh", NOON) is None
    assert sms_window_end("Asia/Ho_Chi_Minh", LATE_EVENING) == SEVEN_NEXT_MORNING
    early = SEVEN_NEXT_MORNING - timedelta(minutes=30)  # 06:30 there
    assert sms_window_end("Asia/Ho_Chi_Minh", early) == SEVEN_NEXT_MORNING
    assert sms_window_end("Asia/Ho_Chi_Minh", SEVEN_NEXT_MORNING) is None
    just_before_ten = datetime(2026, 11, 24, 14, 59, tzinfo=UTC)
    assert sms_window_end("Asia/Ho_Chi_Minh", just_before_ten) is None


@pytest.mark.db_agnostic
def test_an_advertising_text_is_marked_once_and_ends_with_the_opt_out():
    assert advertising_sms("Lan ơi!", "Trả lời TC") == "[QC] Lan ơi! Trả lời TC"
    assert advertising_sms("[QC] Lan ơi! Trả lời TC", "Trả lời TC") == "[QC] Lan ơi! Trả lời TC"


def test_an_advertising_sms_starts_with_the_mark_and_ends_with_the_merchants_opt_out(
    api, hub, merchant, console, outbox
):
    wording = {"vi": "Tu choi QC soan TC gui 0901234567"}
    configure(api, **_settings(console, "tier_near", "points_earned", sms_opt_out=wording))
    member = add_member(api, consents={"sms": True})
    assert message(api, _queue(hub, merchant, member))["status"] == "delivered"
    assert message(api, _queue(hub, merchant, member, kind="points_earned"))["status"] == (
        "delivered"
    )
    advert, points = sent_texts(outbox)
    assert advert.startswith("[QC] Lan oi, chi con 200")
    assert advert.endswith(" Tu choi QC soan TC gui 0901234567")
    # A transactional message is not an advertisement: no mark, no opt-out line
    assert not points.startswith("[QC]") and "Tu choi" not in points


def test_the_opt_out_wording_cannot_be_blanked(api, console):
    body = {"quiet_hours": {"enabled": False}, "sms_opt_out": {"vi": ""}}
    response = api.put("/api/v1/messaging/settings", json=body)
    assert response.status_code == 422
    assert "sms_opt_out" in response.json["error"]["details"]


def test_an_advertising_sms_waits_for_seven_even_with_quiet_hours_off(
    api, hub, merchant, console, outbox
):
    # Given a merchant who switched quiet hours off, and 22:30 in Ho Chi Minh City
    configure(api, **_settings(console, "tier_near", "points_earned"))
    member = add_member(api, consents={"sms": True})
    # When an advertisement and a points message are queued
    advert = _queue(hub, merchant, member, now=LATE_EVENING)
    points = _queue(hub, merchant, member, kind="points_earned", now=LATE_EVENING)
    # Then the points message goes at once, the advertisement waits for 07:00
    assert message(api, points)["status"] == "delivered"
    held = message(api, advert)
    assert (held["status"], held["reason"]) == ("held", "advertising SMS go out 07:00-22:00")
    assert datetime.fromisoformat(held["due_at"]) == SEVEN_NEXT_MORNING
    release_due(hub, now=SEVEN_NEXT_MORNING - timedelta(minutes=5))
    assert message(api, advert)["status"] == "held"
    release_due(hub, now=SEVEN_NEXT_MORNING + timedelta(minutes=2))
    assert message(api, advert)["status"] == "delivered"


def test_a_number_gets_at_most_three_advertising_sms_in_twenty_four_hours(
    api, hub, merchant, console, outbox
):
    # Given no caps of the merchant's own
    configure(api, **_settings(console, "tier_near", "points_earned"))
    member = add_member(api, consents={"sms": True})
    # When four advertisements go to one number within a day, an hour apart
    statuses = [
        message(api, _queue(hub, merchant, member, key=f"k{i}", now=NOON + timedelta(hours=i)))
        for i in range(4)
    ]
    # Then the fourth is refused, with the law's figure
    assert [m["status"] for m in statuses] == ["delivered"] * 3 + ["skipped"]
    assert "3 advertising SMS in the last 24 hours (the law allows 3)" in statuses[3]["reason"]
    # And points messages still go out
    assert message(api, _queue(hub, merchant, member, kind="points_earned"))["status"] == (
        "delivered"
    )
    # 24 hours after the first, one more advertisement may go
    later = _queue(hub, merchant, member, key="k5", now=NOON + timedelta(hours=24, minutes=1))
    assert message(api, later)["status"] == "delivered"


def test_a_marketing_message_needs_consent_given_before_it_goes(
    api, hub, merchant, console, outbox
):
    configure(api, **_settings(console, "tier_near"))
    member = add_member(api)  # nothing ticked for them: no consent
    skipped = message(api, _queue(hub, merchant, member))
    assert (skipped["status"], skipped["reason"]) == (
        "skipped",
        "no channel can reach this member: sms: no consent",
    )
    assert sent_texts(outbox) == []


def test_consent_shows_who_recorded_it_when_and_what_the_member_agreed_to(api):
    member = add_member(
        api,
        consents={"sms": True},
        consent_evidence="Ticked 'Nhận tin khuyến mãi qua SMS' on the signup form",
    )
    consent = api.get(f"/api/v1/members/{member['id']}").json["consents"]["sms"]
    assert consent["granted"] is True
    assert consent["actor"].startswith("api_key:")
    assert consent["evidence"] == "Ticked 'Nhận tin khuyến mãi qua SMS' on the signup form"
    assert consent["changed_at"]
    # Withdrawing keeps the record, now saying no; the grant stays in the audit log
    api.patch(f"/api/v1/members/{member['id']}", json={"consents": {"sms": False}})
    withdrawn = api.get(f"/api/v1/members/{member['id']}").json["consents"]["sms"]
    assert withdrawn["granted"] is False and withdrawn["evidence"] is None


def test_a_withdrawal_stops_a_message_already_waiting(api, hub, merchant, console, outbox):
    # Given an advertisement held overnight for a member who said yes
    configure(api, **_settings(console, "tier_near"))
    member = add_member(api, consents={"sms": True})
    advert = _queue(hub, merchant, member, now=LATE_EVENING)
    assert message(api, advert)["status"] == "held"
    # When the member withdraws their consent before the morning
    api.patch(f"/api/v1/members/{member['id']}", json={"consents": {"sms": False}})
    release_due(hub, now=SEVEN_NEXT_MORNING + timedelta(minutes=2))
    # Then nothing is sent
    assert message(api, advert)["status"] == "skipped"
    assert sent_texts(outbox) == []


ZNS = {"template_id": "375847", "params": {"name": "{name}"}}


def _zns_settings(connection, quota=None, tag="promotion"):
    return {
        "channel_order": ["zalo", "sms"],
        "connections": {"zalo": connection, "sms": connection},
        "caps": {"per_day": None, "per_week": None},
        "zns_promotion_quota": quota or {},
        "kinds": {
            "tier_near": {"enabled": True, "zalo_template": {**ZNS, "tag": tag}},
            "points_earned": {"enabled": True, "zalo_template": {**ZNS, "tag": "transaction"}},
        },
    }


def test_promotion_zns_stay_within_the_daily_quota_then_the_next_channel_takes_over(
    api, hub, merchant, esms
):
    connection = connect_esms(api, esms, oa_id="4318003461")
    configure(api, **_zns_settings(connection, {"daily": 1, "monthly": 1000}))
    first = add_member(api, "0912345678", consents={"sms": True, "zalo": True})
    second = add_member(api, "0987654321", consents={"sms": True, "zalo": True})
    assert message(api, _queue(hub, merchant, first))["channel"] == "zalo"
    by_sms = message(api, _queue(hub, merchant, second))
    assert by_sms["channel"] == "sms"
    # The next local day has a fresh quota
    tomorrow = message(api, _queue(hub, merchant, second, key="k2", now=NOON + timedelta(1)))
    assert tomorrow["channel"] == "zalo"


def test_without_figures_the_monthly_quota_is_a_sixth_of_the_care_zns_of_two_months(
    api, hub, merchant, esms
):
    connection = connect_esms(api, esms, oa_id="4318003461")
    configure(api, **_zns_settings(connection))
    member = add_member(api, "0912345678", consents={"sms": True, "zalo": True})
    # With no transaction ZNS sent before, no promotion ZNS may go: SMS takes it
    assert message(api, _queue(hub, merchant, member, key="a"))["channel"] == "sms"
    # Given six transaction ZNS last month
    last_month = NOON - timedelta(days=30)
    for i in range(6):
        points = _queue(hub, merchant, member, kind="points_earned", key=f"p{i}", now=last_month)
        assert message(api, points)["channel"] == "zalo"
    # Then one promotion ZNS fits this month, and the next goes by SMS
    assert message(api, _queue(hub, merchant, member, key="b"))["channel"] == "zalo"
    assert message(api, _queue(hub, merchant, member, key="c"))["channel"] == "sms"


def test_a_template_tagged_customer_care_is_not_counted_as_promotion(api, hub, merchant, esms):
    connection = connect_esms(api, esms, oa_id="4318003461")
    configure(api, **_zns_settings(connection, {"daily": 0}, tag="customer_care"))
    member = add_member(api, consents={"zalo": True})
    assert message(api, _queue(hub, merchant, member))["channel"] == "zalo"
