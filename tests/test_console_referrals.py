"""The console's Referrals page: the terms form and the referrals with their states."""

from datetime import UTC
from datetime import datetime

import pytest
from browser_support import ServerThread
from browser_support import check_accessibility
from browser_support import screenshot
from console_support import csrf
from console_support import make_staff
from console_support import sign_in_page

from hub.models import Member
from hub.referrals.claims import claim_referral
from hub.referrals.codes import ensure_code


def refer(api, hub):
    """Lan refers Hoa (joined) and herself (refused)."""
    api.patch("/api/v1/referrals/settings", json={"enabled": True})
    lan = api.post("/api/v1/members", json={"phone": "0912345678", "name": "Lan"}).json
    hoa = api.post("/api/v1/members", json={"phone": "0987654321", "name": "Hoa"}).json
    code = ensure_code(hub, api.merchant.id, lan["id"])
    with hub.db.transaction() as session:
        now = datetime(2026, 11, 5, tzinfo=UTC)
        for friend in (hoa, lan):
            member = session.get(Member, friend["id"])
            claim_referral(session, member, code, connection_id=None, now=now)
    return lan, hoa


def test_a_manager_sets_the_terms_and_sees_the_referrals(client, manager, api, hub):
    refer(api, hub)
    page = client.get("/console/referrals").get_data(as_text=True)
    assert "Hoa" in page and "tự giới thiệu chính mình" in page
    saved = client.post(
        "/console/referrals",
        data={
            "csrf_token": csrf(client),
            "enabled": "on",
            "referrer_kind": "points",
            "referrer_points": "300",
            "friend_kind": "points",
            "friend_points": "150",
            "hold_days": "7",
            "monthly_limit": "5",
        },
    )
    assert saved.status_code == 302
    terms = api.get("/api/v1/referrals/settings").json
    assert (terms["referrer"]["points"], terms["friend"]["points"]) == (300, 150)
    assert (terms["hold_days"], terms["monthly_limit"], terms["enabled"]) == (7, 5, True)
    only_refused = client.get("/console/referrals?status=rejected").get_data(as_text=True)
    assert "Hoa" not in only_refused.split("<tbody>")[1]


def test_bad_terms_show_the_fields_to_fix(client, manager, api):
    answer = client.post(
        "/console/referrals",
        data={"csrf_token": csrf(client), "referrer_points": "0", "hold_days": "-1"},
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "hold_days" in page and "referrer" in page
    assert api.get("/api/v1/referrals/settings").json["enabled"] is False


def reward(api, name):
    answer = api.post(
        "/api/v1/rewards",
        json={"name": name, "kind": "amount_off", "value": "30000", "points_cost": 300},
    )
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def test_each_side_can_earn_points_or_a_voucher_of_a_reward(client, manager, api):
    gift = reward(api, "Giảm 30.000đ")
    form = {
        "csrf_token": csrf(client),
        "enabled": "on",
        "referrer_kind": "voucher",
        "referrer_reward_id": str(gift),
        "referrer_points": "999",  # typed, then voucher chosen: the choice wins
        "friend_kind": "points",
        "friend_points": "150",
    }
    assert client.post("/console/referrals", data=form).status_code == 302
    terms = api.get("/api/v1/referrals/settings").json
    assert terms["referrer"] == {"points": None, "reward_id": gift}
    assert terms["friend"] == {"points": 150, "reward_id": None}
    page = client.get("/console/referrals").get_data(as_text=True)
    assert f'<option value="{gift}" selected>Giảm 30.000đ</option>' in page
    assert 'name="referrer_kind" value="voucher" checked' in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"referrer_kind": "voucher"}, "Hãy chọn phần thưởng được tặng dưới dạng phiếu giảm giá."),
        ({"friend_kind": "points", "friend_points": ""}, "Hãy nhập số điểm bên này nhận được."),
        ({"referrer_kind": "voucher", "referrer_reward_id": "987654"}, "không còn trong cửa hàng"),
        ({"referrer_kind": "voucher", "referrer_reward_id": "two"}, "không còn trong cửa hàng"),
    ],
)
def test_a_side_without_its_points_or_reward_is_refused(client, manager, api, fields, message):
    form = {
        "csrf_token": csrf(client),
        "enabled": "on",
        "referrer_kind": "points",
        "referrer_points": "200",
        "friend_kind": "points",
        "friend_points": "100",
        **fields,
    }
    answer = client.post("/console/referrals", data=form)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert api.get("/api/v1/referrals/settings").json["enabled"] is False


WORDS = {
    "vi": {
        "friend": "Người bạn nhận được",
        "voucher": "Một phiếu giảm giá từ phần thưởng",
        "save": "Lưu điều kiện",
        "saved": "Đã lưu điều kiện giới thiệu bạn bè.",
    },
    "en": {
        "friend": "What the friend earns",
        "voucher": "A voucher of a reward",
        "save": "Save the terms",
        "saved": "Referral terms saved.",
    },
}


@pytest.mark.db_agnostic
@pytest.mark.parametrize(("locale", "width"), [("vi", 390), ("en", 1366)])
def test_the_referrals_page_in_chromium(browser, app, hub, merchant, api, locale, width):
    refer(api, hub)
    gift = reward(api, "Giảm 30.000đ")
    person = make_staff(hub, merchant.id, "manager")
    server = ServerThread(app)
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    try:
        sign_in_page(page, server.url, person.email, locale)
        page.goto(f"{server.url}/console/referrals")
        refused = "referred themselves" if locale == "en" else "tự giới thiệu chính mình"
        page.get_by_text(refused).wait_for()
        screenshot(page, f"console-referrals-{locale}-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        check_accessibility(page, f"referrals-{locale}-{width}")
        # The friend's side changed to a voucher, chosen by the reward's name.
        friend = page.get_by_role("group", name=WORDS[locale]["friend"])
        friend.get_by_role("radio", name=WORDS[locale]["voucher"]).check()
        friend.get_by_role("combobox").select_option(label="Giảm 30.000đ")
        page.get_by_role("button", name=WORDS[locale]["save"]).click()
        page.get_by_text(WORDS[locale]["saved"]).wait_for()
        assert api.get("/api/v1/referrals/settings").json["friend"]["reward_id"] == gift
    finally:
        context.close()
        server.stop()
