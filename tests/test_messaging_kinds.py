"""Each automatic message from its event (or its day) to the gateway's delivered receipt.

SMS through the eSMS simulator, which calls the hub back on loopback.
"""

from __future__ import annotations

from datetime import date
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from simulators import fixtures
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect_esms
from simulators.fixtures import message
from simulators.fixtures import messages_of

from hub import utcnow
from hub.events import deliver_event
from hub.models import EventRecord
from hub.models import Member
from hub.models import Voucher
from hub.points import ledger
from plugins.messages_birthday import send_birthdays
from plugins.messages_points import send_expiring
from plugins.messages_winback import send_win_backs

esms = fixtures.esms
hub_server = fixtures.hub_server
daytime = fixtures.daytime
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def sms(api, esms, hub_server):
    """Settings for the test's kinds: SMS through eSMS, quiet hours off."""

    def configure_kinds(**kinds):
        connection_id = connect_esms(api, esms)
        configure(
            api,
            channel_order=["sms"],
            connections={"sms": connection_id},
            kinds={name: {"enabled": True, **spec} for name, spec in kinds.items()},
        )

    return configure_kinds


def order(api, external_id="1001", total=330000, *, placed_at=None, phone="0912345678"):
    placed_at = placed_at or utcnow()
    body = {
        "source": "webshop",
        "external_id": external_id,
        "number": f"#{external_id}",
        "currency": "VND",
        "subtotal": str(total),
        "total": str(total),
        "financial_status": "paid",
        "placed_at": placed_at.isoformat(),
        "paid_at": placed_at.isoformat(),
        "customer": {"phone": phone, "name": "Nguyễn Thị Lan"},
    }
    response = api.post("/api/v1/orders", json=body)
    assert response.status_code in (200, 201), response.json
    return response.json


def delivered(api, esms, member_id) -> dict:
    """Let eSMS report every message sent; return the member's only message."""
    assert set(esms.deliver_receipts("5")) <= {200}
    [only] = messages_of(api, member_id)
    assert only["status"] == "delivered", only
    return only


def test_thank_you_after_a_paid_order(api, esms, sms):
    # Given thank-you messages on, and a member
    sms(thank_you={})
    member = add_member(api)
    # When the member's paid order arrives
    order(api)
    # Then eSMS sends the thanks, with the order and the points, and reports it delivered
    assert esms.sent[0].content == (
        "Cua hang Hoa Mai cam on Lan da mua hang! Don #1001 (330.000 VND) da duoc ghi nhan. "
        "Diem cua ban: 330."
    )
    thanks = delivered(api, esms, member["id"])
    assert (thanks["kind"], thanks["event_type"]) == ("thank_you", "order.received")
    # And the same order sent again thanks nobody twice
    order(api)
    assert len(esms.sent) == 1


def test_no_thank_you_for_an_order_imported_from_long_ago(api, esms, sms):
    sms(thank_you={})
    member = add_member(api)
    order(api, placed_at=utcnow() - timedelta(days=30))
    assert messages_of(api, member["id"]) == [] and esms.sent == []


def test_a_replayed_event_sends_nothing_new(app, api, hub, esms, sms):
    sms(points_earned={})
    member = add_member(api)
    order(api)
    with hub.db.session() as session:
        event_id = session.query(EventRecord.id).filter_by(type="points.earned").scalar()
    with app.app_context():
        deliver_event(event_id, "messages_points")  # the job replayed
    assert len(messages_of(api, member["id"])) == 1
    assert len(esms.sent) == 1


def test_points_earned(api, esms, sms):
    sms(points_earned={})
    member = add_member(api)
    order(api, total=450000)
    assert esms.sent[0].content == (
        "Cua hang Hoa Mai: Lan vua duoc cong 450 diem. Tong diem hien co: 450."
    )
    assert delivered(api, esms, member["id"])["kind"] == "points_earned"


def test_tier_up(api, esms, sms):
    sms(tier_up={})
    for name, threshold in (("Đồng", 0), ("Bạc", 300000)):
        assert (
            api.post("/api/v1/tiers", json={"name": name, "threshold": threshold}).status_code
            == 201
        )
    member = add_member(api)
    order(api, total=450000)
    assert esms.sent[-1].content == (
        "Chuc mung Lan da len hang Bac tai Cua hang Hoa Mai! Cam on ban da luon dong hanh."
    )
    ups = [m for m in messages_of(api, member["id"]) if m["kind"] == "tier_up"]
    assert set(esms.deliver_receipts("5")) == {200}
    assert all(message(api, m["id"])["status"] == "delivered" for m in ups)


def _reward(api, name: str, value: str = "50000") -> dict:
    response = api.post(
        "/api/v1/rewards",
        json={"name": name, "kind": "amount_off", "value": value, "points_cost": 1000},
    )
    assert response.status_code == 201, response.json
    return response.json


def _tier(api, name: str, threshold: int) -> dict:
    response = api.post("/api/v1/tiers", json={"name": name, "threshold": threshold})
    assert response.status_code == 201, response.json
    return response.json


def test_thank_you_carries_a_gift_voucher_when_the_merchant_names_a_reward(api, hub, esms, sms):
    # Given thank-you messages with a voucher for next time, and voucher messages on too
    reward = _reward(api, "Giảm 50k lần sau")
    sms(thank_you={"options": {"reward_id": reward["id"]}}, voucher_issued={})
    member = add_member(api)
    # When the member's paid order arrives, even twice
    order(api)
    order(api)
    # Then one thank-you carries a gift voucher of that reward, and no second message repeats it
    with hub.db.session() as session:
        voucher = session.query(Voucher).filter_by(member_id=member["id"]).one()
        assert (voucher.reward_name, voucher.points) == ("Giảm 50k lần sau", 0)
    assert [s.content for s in esms.sent] == [
        "Cua hang Hoa Mai cam on Lan da mua hang! Don #1001 (330.000 VND) da duoc ghi nhan. "
        f"Qua cho lan sau: ma {voucher.code}."
    ]
    assert delivered(api, esms, member["id"])["voucher_id"] == voucher.id


def test_tier_up_gives_the_entry_reward_of_the_tier_reached(api, hub, esms, sms):
    # Given Bạc with a 50k entry voucher and Vàng with none (not even the default reward)
    silver, gold = _tier(api, "Bạc", 300000), _tier(api, "Vàng", 1000000)
    entry, fallback = _reward(api, "Quà lên hạng Bạc"), _reward(api, "Quà chung", "10000")
    rewards = {str(silver["id"]): entry["id"], str(gold["id"]): None}
    sms(tier_up={"options": {"reward_id": fallback["id"], "rewards": rewards}})
    member = add_member(api)
    # When the member reaches Bạc, then Vàng
    order(api, "1001", total=450000)
    order(api, "1002", total=600000)
    # Then the move to Bạc brought Bạc's entry voucher; the move to Vàng, a message only
    with hub.db.session() as session:
        [voucher] = session.query(Voucher).filter_by(member_id=member["id"]).all()
    assert voucher.reward_name == "Quà lên hạng Bạc"
    assert [s.content for s in esms.sent] == [
        "Chuc mung Lan da len hang Bac tai Cua hang Hoa Mai! "
        f"Qua chao hang moi: ma uu dai {voucher.code}.",
        "Chuc mung Lan da len hang Vang tai Cua hang Hoa Mai! Cam on ban da luon dong hanh.",
    ]


def test_a_tier_entry_reward_of_another_shop_is_refused(api, esms):
    response = api.put(
        "/api/v1/messaging/settings",
        json={"kinds": {"tier_up": {"enabled": True, "options": {"rewards": {"7": 987654}}}}},
    )
    assert response.status_code == 422, response.json
    assert "kinds.tier_up.options.rewards.7.reward_id" in response.json["error"]["details"]


def test_near_the_next_tier_goes_to_members_who_consented(api, esms, sms, daytime):
    sms(tier_near={})
    assert api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 500000}).status_code == 201
    member = add_member(api, consents={"sms": True})
    order(api, total=460000)
    # An advertisement: the [QC] mark first, how to refuse last (Decree 91/2020)
    assert esms.sent[0].content == (
        "[QC] Lan oi, chi con 40.000 nua la ban len hang Vang tai Cua hang Hoa Mai! "
        "Tu choi nhan QC, tra loi TC"
    )
    assert delivered(api, esms, member["id"])["kind"] == "tier_near"


def test_voucher_issued(api, hub, esms, sms):
    sms(voucher_issued={})
    member = add_member(api)
    with hub.db.transaction() as session:
        ledger.credit(session, session.get(Member, member["id"]), 1000, kind="earn", key="gift")
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50.000đ", "kind": "amount_off", "value": "50000", "points_cost": 500},
    ).json
    voucher = api.post(
        f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": reward["id"]}
    ).json["voucher"]
    assert esms.sent[0].content == (
        f"Cua hang Hoa Mai: Lan nhan duoc ma uu dai {voucher['code']}. Cam on ban!"
    )
    assert delivered(api, esms, member["id"])["kind"] == "voucher_issued"


def test_points_expiring_a_few_days_ahead_once(app, api, hub, esms, sms):
    # Given 300 points expiring in three days
    sms(points_expiring={"options": {"days_before": 7, "send_hour": 0}})
    member = add_member(api)
    expires = utcnow() + timedelta(days=3)
    with hub.db.transaction() as session:
        ledger.credit(
            session,
            session.get(Member, member["id"]),
            300,
            kind="earn",
            key="e",
            expires_at=expires,
        )
    # When the daily run goes, twice
    with app.app_context():
        assert send_expiring() == 1
        assert send_expiring() == 0
    # Then one message names the points and the day
    day = expires.astimezone(ZONE).strftime("%d/%m/%Y")
    assert esms.sent[0].content == (
        f"Cua hang Hoa Mai: 300 diem cua Lan se het han vao {day}. "
        "Hay dung diem truoc khi het han nhe!"
    )
    assert delivered(api, esms, member["id"])["kind"] == "points_expiring"


def _birthday_member(api, today: date, **fields):
    return add_member(
        api, birthday=today.replace(year=1992).isoformat(), consents={"sms": True}, **fields
    )


def test_birthday_with_a_voucher_once_a_year(app, api, hub, esms, sms):
    # Given birthday messages with a gift voucher, from 9:00, and voucher messages on too
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Quà sinh nhật", "kind": "percent_off", "value": "10", "points_cost": 1000},
    ).json
    sms(birthday={"options": {"reward_id": reward["id"], "send_hour": 9}}, voucher_issued={})
    local = utcnow().astimezone(ZONE)
    member = _birthday_member(api, local.date())
    morning = local.replace(hour=9, minute=30).astimezone(ZoneInfo("UTC"))
    early = local.replace(hour=8, minute=0).astimezone(ZoneInfo("UTC"))
    # When the hourly run goes before nine, then at half past, then again
    with app.app_context():
        assert send_birthdays(early.isoformat()) == 0
        assert send_birthdays(morning.isoformat()) == 1
        assert send_birthdays((morning + timedelta(hours=3)).isoformat()) == 0
    # Then one message carries a gift voucher's code, and no second message repeats it
    with hub.db.session() as session:
        voucher = session.query(Voucher).filter_by(member_id=member["id"]).one()
        assert (voucher.points, voucher.reward_id) == (0, None)
    assert [s.content for s in esms.sent] == [
        f"[QC] Cua hang Hoa Mai chuc mung sinh nhat Lan! Qua tang ban: ma uu dai {voucher.code}."
        " Tu choi nhan QC, tra loi TC"
    ]
    birthday = delivered(api, esms, member["id"])
    assert birthday["voucher_id"] == voucher.id
    assert birthday["dedupe_key"] == f"birthday:{member['id']}:{local.year}"


def test_birthday_skips_members_without_marketing_consent_and_gives_no_voucher(
    app, api, hub, esms, sms
):
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Quà", "kind": "percent_off", "value": "10", "points_cost": 1000},
    ).json
    sms(birthday={"options": {"reward_id": reward["id"], "send_hour": 0}})
    local = utcnow().astimezone(ZONE)
    member = add_member(api, birthday=local.date().replace(year=1992).isoformat())
    with app.app_context():
        send_birthdays()
    [skipped] = messages_of(api, member["id"])
    assert skipped["status"] == "skipped" and skipped["voucher_id"] is None
    with hub.db.session() as session:
        assert session.query(Voucher).count() == 0


def test_win_back_after_sixty_days_without_an_order(app, api, esms, sms, daytime):
    # Given win-back after 60 days, and a member whose last order was 61 days ago
    sms(win_back={"options": {"days": 60, "send_hour": 0}})
    member = add_member(api, consents={"sms": True})
    last = utcnow() - timedelta(days=61)
    order(api, placed_at=last)
    # When the daily run goes, twice
    with app.app_context():
        assert send_win_backs() == 1
        assert send_win_backs() == 0
    # Then one message went out
    assert esms.sent[0].content == (
        "[QC] Cua hang Hoa Mai nho Lan! Da 61 ngay ban chua ghe, quay lai mua sam cung chung "
        "toi nhe. Tu choi nhan QC, tra loi TC"
    )
    assert delivered(api, esms, member["id"])["kind"] == "win_back"


def test_no_win_back_for_a_member_who_ordered_recently(app, api, esms, sms):
    sms(win_back={"options": {"days": 60, "send_hour": 0}})
    member = add_member(api, consents={"sms": True})
    order(api, "1", placed_at=utcnow() - timedelta(days=90))
    order(api, "2", placed_at=utcnow() - timedelta(days=5))
    with app.app_context():
        assert send_win_backs() == 0
    assert messages_of(api, member["id"]) == []


def test_preview_shows_a_kind_as_it_would_go_out(api, sms):
    sms(thank_you={})
    member = add_member(api)
    preview = api.post(
        "/api/v1/messaging/preview", json={"kind": "thank_you", "member_id": member["id"]}
    ).json
    assert preview["text"].startswith("Cửa hàng Hoa Mai cảm ơn Lan đã mua hàng! Đơn #1001")
    assert preview["sms"]["encoding"] == "GSM-7"
    assert preview["sms"]["text"].startswith("Cua hang Hoa Mai cam on Lan")
    assert preview["sms"]["segments"] == 1


def test_the_key_of_a_message_is_unique_per_member_and_cause(api, hub, esms, sms):
    sms(points_earned={})
    one = add_member(api, "0912345678")
    two = add_member(api, "0987654321")
    first = order(api, "1", phone="0912345678")["id"]
    second = order(api, "2", phone="0987654321")["id"]
    keys = {m["dedupe_key"] for m in messages_of(api, one["id"]) + messages_of(api, two["id"])}
    assert keys == {
        f"points_earned:{one['id']}:order:{first}",
        f"points_earned:{two['id']}:order:{second}",
    }


def test_a_thank_you_at_night_waits_for_the_morning(api, hub, esms, hub_server):
    from datetime import datetime

    from hub.messaging.delivery import release_due

    # Given quiet hours around this moment in the merchant's timezone
    local = utcnow().astimezone(ZONE)
    quiet = {
        "enabled": True,
        "start": (local - timedelta(hours=1)).strftime("%H:%M"),
        "end": (local + timedelta(hours=2)).strftime("%H:%M"),
    }
    connection_id = connect_esms(api, esms)
    configure(
        api,
        channel_order=["sms"],
        connections={"sms": connection_id},
        quiet_hours=quiet,
        kinds={"thank_you": {"enabled": True}},
    )
    member = add_member(api)
    # When a paid order arrives
    order(api)
    # Then the thanks is held until the quiet hours end, and nothing is sent
    [held] = messages_of(api, member["id"])
    assert held["status"] == "held" and esms.sent == []
    due = datetime.fromisoformat(held["due_at"])
    assert due.astimezone(ZONE).strftime("%H:%M") == quiet["end"]
    # When the morning comes
    release_due(hub, now=due + timedelta(minutes=2))
    # Then it goes out and is delivered
    assert len(esms.sent) == 1
    assert delivered(api, esms, member["id"])["kind"] == "thank_you"


def test_one_order_sends_both_transactional_messages_whatever_the_cap(api, esms, sms):
    # Given thank-you and points-earned both on, and at most one marketing message a day
    sms(thank_you={}, points_earned={})
    configure_caps = api.get("/api/v1/messaging/settings").json
    body = {key: configure_caps[key] for key in ("channel_order", "connections", "quiet_hours")}
    body["caps"] = {"per_day": 1, "per_week": None}
    body["kinds"] = {"thank_you": {"enabled": True}, "points_earned": {"enabled": True}}
    assert api.put("/api/v1/messaging/settings", json=body).status_code == 200
    member = add_member(api)
    # When a paid order brings both
    order(api)
    # Then both go out: the caps are for marketing, never for what the member must know
    statuses = sorted(m["status"] for m in messages_of(api, member["id"]))
    assert statuses == ["sent", "sent"]
    assert len(esms.sent) == 2
