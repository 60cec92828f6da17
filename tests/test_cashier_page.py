"""The cashier page's session and forms through the Flask test client: cookies, CSRF, flows."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from connectors.pos.cashier_text import TEXT
from connectors.pos.cashier_text import format_money
from connectors.pos.cashier_text import parse_amount
from connectors.pos.testing import open_counter
from hub.models import Member
from hub.models import MemberConsent
from hub.models import PointEntry
from hub.points import ledger


@pytest.fixture
def till(client, merchant):
    return open_counter(client, merchant.headers, location="Quầy Lê Lợi")


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, key):
    page = client.get("/pos/cashier")
    return client.post(
        "/pos/cashier/sign-in", data={"key": key, "csrf": csrf_of(page.get_data(as_text=True))}
    )


@pytest.fixture
def cashier(client, till):
    response = sign_in(client, till.key)
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_of(client.get("/pos/cashier").get_data(as_text=True))


def give(hub, member_id, points):
    with hub.db.transaction() as session:
        member = session.get(Member, member_id)
        ledger.credit(session, member, points, kind="earn", key=f"test:{uuid.uuid4()}")


def test_the_page_asks_for_the_key_first(client):
    page = client.get("/pos/cashier")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="key"' in html and "autofocus" in html
    assert "Đăng nhập quầy" in html


def test_signing_in_sets_a_strict_httponly_cookie_scoped_to_the_page(client, till):
    response = sign_in(client, till.key)

    cookie = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("hub_pos_cashier=")
    )
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/pos/cashier" in cookie
    assert till.key not in cookie
    assert response.headers["Location"].endswith("/pos/cashier")


def test_the_cookie_is_secure_over_https(client, till):
    page = client.get("/pos/cashier", base_url="https://hub.example")
    response = client.post(
        "/pos/cashier/sign-in",
        data={"key": till.key, "csrf": csrf_of(page.get_data(as_text=True))},
        base_url="https://hub.example",
    )

    cookie = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("hub_pos_cashier=")
    )
    assert "Secure" in cookie


def test_a_wrong_key_is_refused_on_the_page(client, till, merchant):
    for wrong in ("pos_nope_nope", merchant.api_key, ""):
        response = sign_in(client, wrong)
        assert response.status_code == 401
        assert "Khoá không đúng" in response.get_data(as_text=True)


def test_signing_in_without_the_forms_token_is_refused(client, till):
    client.get("/pos/cashier")

    response = client.post("/pos/cashier/sign-in", data={"key": till.key, "csrf": "forged"})

    assert response.status_code == 403


def test_forms_without_the_sessions_csrf_token_are_refused(client, cashier, member):
    for path, data in (
        ("/pos/cashier/lookup", {"q": "0912345678"}),
        (f"/pos/cashier/members/{member['code']}/earn", {"amount": "100000"}),
        ("/pos/cashier/enrol", {"phone": "0901234567"}),
        ("/pos/cashier/sign-out", {}),
    ):
        assert client.post(path, data={**data, "csrf": "wrong"}).status_code == 403
        assert client.post(path, data=data).status_code == 403


def test_pages_are_not_cached_and_allow_no_outside_scripts(client, cashier):
    response = client.get("/pos/cashier")

    assert response.headers["Cache-Control"] == "no-store"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    html = response.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html  # nothing from a CDN


def test_a_lookup_by_phone_opens_the_members_page(client, cashier, hub, member):
    give(hub, member["id"], 1500)

    response = client.post(
        "/pos/cashier/lookup", data={"q": "0912 345 678", "csrf": cashier}, follow_redirects=True
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nguyễn Thị Lan" in html and member["code"] in html
    assert 'data-points="1500"' in html and "1.500" in html
    assert "<svg" in html  # the member's QR


def test_an_unknown_lookup_offers_to_enrol_the_phone(client, cashier):
    response = client.post("/pos/cashier/lookup", data={"q": "0901234567", "csrf": cashier})

    html = response.get_data(as_text=True)
    assert "Không tìm thấy" in html
    assert "/pos/cashier/enrol?phone=0901234567" in html


def test_earning_on_an_amount_records_a_sale_and_says_so(client, cashier, hub, member, till):
    page = f"/pos/cashier/members/{member['code']}"
    html = client.get(page).get_data(as_text=True)
    receipt_default = re.search(r'name="receipt_default" value="([^"]+)"', html).group(1)
    opened_at = re.search(r'name="opened_at" value="([^"]+)"', html).group(1)
    form = {
        "amount": "350.000",
        "receipt_default": receipt_default,
        "opened_at": opened_at,
        "csrf": cashier,
    }

    first = client.post(f"{page}/earn", data=form, follow_redirects=True)
    again = client.post(f"{page}/earn", data=form, follow_redirects=True)

    assert "+350 điểm" in first.get_data(as_text=True)
    assert "đã được ghi trước đó" in again.get_data(as_text=True)
    with hub.db.session() as session:
        points = [e.points for e in session.scalars(select(PointEntry))]
    assert points == [350]
    assert till.get(f"/pos/v1/sales/{receipt_default}").json["points"]["earned"] == 350


def test_a_bad_amount_earns_nothing(client, cashier, hub, member):
    response = client.post(
        f"/pos/cashier/members/{member['code']}/earn",
        data={"amount": "abc", "csrf": cashier},
        follow_redirects=True,
    )

    assert "Không thực hiện được" in response.get_data(as_text=True)
    with hub.db.session() as session:
        assert session.scalars(select(PointEntry)).first() is None


def test_redeeming_a_reward_issues_a_voucher_once(client, cashier, api, hub, member):
    give(hub, member["id"], 1200)
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50.000đ", "kind": "amount_off", "value": "50000", "points_cost": 500},
    ).json
    form = {"reward_id": reward["id"], "request_id": "page-1", "csrf": cashier}

    first = client.post(f"/pos/cashier/members/{member['code']}/redeem", data=form)
    client.post(f"/pos/cashier/members/{member['code']}/redeem", data=form)

    page = client.get(first.headers["Location"]).get_data(as_text=True)
    vouchers = api.get(f"/api/v1/members/{member['id']}/vouchers").json["data"]
    assert len(vouchers) == 1
    assert f"voucher {vouchers[0]['code']}" in page
    assert 'data-points="700"' in page


def test_enrolling_from_the_page_records_ticked_consents_only(client, cashier, hub):
    response = client.post(
        "/pos/cashier/enrol",
        data={"phone": "0901234567", "name": "Bình", "consent_zalo": "on", "csrf": cashier},
        follow_redirects=True,
    )

    assert "Đã đăng ký thành viên" in response.get_data(as_text=True)
    with hub.db.session() as session:
        consents = [
            (c.channel, c.granted, c.source) for c in session.scalars(select(MemberConsent))
        ]
    assert consents == [("zalo", True, "pos:Quầy Lê Lợi")]


def test_enrolling_without_a_phone_shows_the_form_again(client, cashier):
    response = client.post("/pos/cashier/enrol", data={"phone": "", "csrf": cashier})

    assert response.status_code == 422
    assert "Không thực hiện được" in response.get_data(as_text=True)


def test_revoking_the_key_ends_the_cashier_session(client, cashier, api, till, member):
    key = api.get(f"/api/v1/pos/connections/{till.connection_id}/keys").json[0]
    api.delete(f"/api/v1/pos/connections/{till.connection_id}/keys/{key['id']}")

    response = client.get(f"/pos/cashier/members/{member['code']}")

    assert response.status_code == 302
    assert 'name="key"' in client.get("/pos/cashier").get_data(as_text=True)


def test_signing_out_ends_the_session(client, cashier, member):
    client.post("/pos/cashier/sign-out", data={"csrf": cashier})

    assert client.get(f"/pos/cashier/members/{member['code']}").status_code == 302


def test_the_page_speaks_english_when_asked_and_stays_on_the_page(client, cashier):
    response = client.get("/pos/cashier/lang/en?next=/pos/cashier")

    assert response.headers["Location"].endswith("/pos/cashier")
    assert "Phone, member code or scan" in client.get("/pos/cashier").get_data(as_text=True)
    outside = client.get("/pos/cashier/lang/vi?next=https://evil.example/")
    assert outside.headers["Location"].endswith("/pos/cashier")


@pytest.mark.parametrize(
    ("typed", "currency", "amount"),
    [
        ("350.000", "VND", "350000"),
        ("350,000", "VND", "350000"),
        (" 1 500 000 ", "VND", "1500000"),
        ("12.50", "USD", "12.50"),
        ("1,234.5", "USD", "1234.5"),
        ("abc", "VND", None),
        ("-5", "VND", None),
        ("0", "VND", None),
        ("NaN", "VND", None),
        ("Infinity", "USD", None),
    ],
)
def test_amounts_are_read_as_cashiers_type_them(typed, currency, amount):
    parsed = parse_amount(typed, currency)

    assert (str(parsed) if parsed is not None else None) == amount


def test_money_is_written_as_the_shop_writes_it():
    assert format_money("1500000", "VND", "vi") == "1.500.000 ₫"
    assert format_money("1500000", "VND", "en") == "1,500,000 ₫"
    assert format_money("12.5", "USD", "en") == "12.50 USD"


def test_every_phrase_is_there_in_both_languages():
    assert set(TEXT["vi"]) == set(TEXT["en"])
    for key, phrase in TEXT["vi"].items():
        assert re.findall(r"{(\w+)}", phrase) == re.findall(r"{(\w+)}", TEXT["en"][key]), key
