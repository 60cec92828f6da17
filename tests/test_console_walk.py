"""A walk through every console page in Debian's Chromium, as each role, language and width.

The pages come from the console's navigation (``console_nav``), so a page added
later is walked too, with the member profile, a member search and a lookup at
the counter. One app seeded with a realistic shop serves the whole
module; each page is screenshotted under test-artifacts/screenshots/walk/,
checked with axe-core, checked for sideways scrolling and, in Vietnamese, for
English strings the catalogue translates.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from browser_support import ARTIFACTS
from browser_support import WIDTHS
from browser_support import ServerThread
from browser_support import check_accessibility
from browser_support import screenshot
from browser_support import viewport
from console_support import make_staff
from console_support import open_sign_in_page
from console_support import sign_in_page

from hub.db import utcnow
from hub.testing import ApiClient
from hub.testing import create_test_merchant
from hub.testing import make_app
from hub.testing import migrate

pytestmark = pytest.mark.db_agnostic

CATALOGUE = Path(__file__).parent.parent / "hub/console/translations/vi/LC_MESSAGES/messages.po"
ROLES = ("owner", "manager", "cashier")
STAFF_NAMES = {"owner": "Đỗ Thu Hà", "manager": "Bùi Quang Huy", "cashier": "Ngô Thảo My"}
MEMBERS = [
    ("Nguyễn Thị Lan", "0912345678", "Hà Nội", "1990-03-14", ["vip"]),
    ("Trần Văn Hùng", "0987654321", "Hồ Chí Minh", "1985-12-02", ["vip", "sỉ"]),
    ("Lê Hoàng Anh", "0905123456", "Đà Nẵng", "1998-07-21", []),
    ("Phạm Minh Châu", "0938765432", "Cần Thơ", "2001-12-30", ["mới"]),
    ("Võ Thị Hồng Nhung", "0977111222", "Hồ Chí Minh", None, []),
]


def seed_shop(api: ApiClient) -> int:
    """Tiers, rewards, members with orders, points and a voucher; the first member's id."""
    for name, threshold in (("Đồng", 0), ("Bạc", "2000000"), ("Vàng", "10000000")):
        tier = api.post("/api/v1/tiers", json={"name": name, "threshold": threshold})
        assert tier.status_code == 201, tier.json
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50.000đ", "kind": "amount_off", "value": "50000", "points_cost": 500},
    ).json
    api.post(
        "/api/v1/rewards",
        json={"name": "Miễn phí giao hàng", "kind": "free_shipping", "points_cost": 200},
    )
    ids = []
    for index, (name, phone, province, birthday, tags) in enumerate(MEMBERS):
        body = {"name": name, "phone": phone, "tags": tags, "consents": {"sms": index % 2 == 0}}
        body |= {"birthday": birthday} if birthday else {}
        response = api.post("/api/v1/members", json=body | {"province": province})
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
        for number in range(index + 1):
            order = {
                "source": "webshop",
                "external_id": f"DH-{index}-{number}",
                "currency": "VND",
                "subtotal": "450000",
                "total": "450000",
                "financial_status": "paid",
                "placed_at": (utcnow() - timedelta(days=7 * number + index)).isoformat(),
                "customer": {"phone": phone, "name": name},
            }
            assert api.post("/api/v1/orders", json=order).status_code in (200, 201, 202)
    adjust = {"points": 1200, "reason": "Khách quen tặng điểm"}
    assert api.post(f"/api/v1/members/{ids[0]}/adjustments", json=adjust).status_code < 300
    redeemed = api.post(f"/api/v1/members/{ids[0]}/redemptions", json={"reward_id": reward["id"]})
    assert redeemed.status_code == 201, redeemed.json
    return ids[0]


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """One app for the module on its own SQLite file, seeded through the API, served on loopback."""
    folder = tmp_path_factory.mktemp("walk")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    migrate(url)
    app = make_app(url, instance_path=folder)
    hub = app.extensions["hub"]
    merchant = create_test_merchant(hub, "Cửa hàng Hoa Mai")
    member_id = seed_shop(ApiClient(app.test_client(), merchant))
    staff = {role: make_staff(hub, merchant.id, role, name=STAFF_NAMES[role]) for role in ROLES}
    with app.test_request_context():
        from flask import url_for

        pages = [(e.key, url_for(e.endpoint), e) for e in app.extensions["console_nav"]]
    server = ServerThread(app)
    yield {"url": server.url, "member": member_id, "staff": staff, "pages": pages}
    server.stop()
    hub.db.dispose()


def translated_phrases() -> list[re.Pattern]:
    """Each catalogue entry whose Vietnamese differs, as a whole-phrase English pattern."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    patterns = []
    for message in catalogue:
        english, vietnamese = message.id, message.string
        if not isinstance(english, str) or not vietnamese or vietnamese == english:
            continue
        if "%(" in english or "{" in english or not re.search(r"[a-z]", english):
            continue
        # A word inside a placeholder (``{points}``) is a name, not English.
        patterns.append(re.compile(rf"(?<![\w{{-]){re.escape(english)}(?![\w}}-])"))
    return patterns


PHRASES = translated_phrases()


#: The product's name, the same in every language.
PRODUCT_NAME = "Storefront Hub"


def untranslated(text: str) -> list[str]:
    text = text.replace(PRODUCT_NAME, "")
    return [p.pattern for p in PHRASES if p.search(text)]


def sign_in(page, shop, role: str, locale: str) -> None:
    sign_in_page(page, shop["url"], shop["staff"][role].email, locale)


def check_page(page, name: str, locale: str) -> None:
    assert page.locator("h1").count() == 1, name
    screenshot(page, f"walk/{name}")
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"
    if locale == "vi":
        # Text marked as another language (a template's English preview) and code (a
        # template's placeholders) are not the page's words.
        text = page.evaluate(
            """() => { const body = document.body.cloneNode(true);
                body.querySelectorAll('code, [lang]:not([lang^="vi"])').forEach(e => e.remove());
                document.documentElement.appendChild(body);
                const text = body.innerText; body.remove(); return text; }"""
        )
        assert untranslated(text) == [], name
    check_accessibility(page, name)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_in_the_navigation_opens_for_its_roles_and_refuses_the_others(
    browser, shop, role, locale, width
):
    (ARTIFACTS / "walk").mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=viewport(width), locale=locale)
    page = context.new_page()
    try:
        sign_in(page, shop, role, locale)
        entries = {key: entry for key, _, entry in shop["pages"]}
        beyond_the_navigation = [
            ("member", f"/console/members/{shop['member']}", entries["members"]),
            ("members-search", "/console/members?q=nguyen", entries["members"]),
            ("counter-lookup", f"/console/counter?q={MEMBERS[0][1]}", entries["counter"]),
        ]
        for key, path, entry in [*shop["pages"], *beyond_the_navigation]:
            response = page.goto(shop["url"] + path)
            name = f"{role}-{key}-{locale}-{width}"
            if not entry.allows(role):
                assert response.status == 403, name
                assert "Nguyễn Thị Lan" not in page.content(), name
                continue
            assert response.status == 200, name
            check_page(page, name, locale)
            if key == "counter-lookup":
                # What the cashier looks up is in view at every width, without scrolling.
                points = page.locator("tbody td.num").first.bounding_box()
                assert points["x"] + points["width"] <= WIDTHS[width][0], name
    finally:
        context.close()


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_sign_in_page_passes_the_checks_at_phone_width(browser, shop, locale):
    page = browser.new_page(viewport=viewport("phone"))
    try:
        open_sign_in_page(page, shop["url"], locale)
        page.wait_for_load_state()
        check_page(page, f"sign-in-{locale}-phone", locale)
    finally:
        page.close()


def test_the_catalogue_check_finds_an_english_phrase_left_in_a_vietnamese_page():
    assert untranslated("Thành viên · Members") != []
    assert untranslated("Thành viên · Cửa hàng Hoa Mai") == []
    assert untranslated("Biến: {points}, {tier}") == []
