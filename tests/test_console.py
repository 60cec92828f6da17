"""The merchant console through the Flask test client: sign-in, sessions, CSRF, roles, pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from console_support import PASSWORD
from console_support import csrf
from console_support import csrf_of
from console_support import make_staff
from console_support import sign_in
from flask import Blueprint

from hub import ConsolePage
from hub import hookimpl
from hub.db import utcnow
from hub.staff_sessions import ACCOUNT_LIMIT
from hub.staff_sessions import record_failure

XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


@pytest.fixture
def owner(hub, merchant):
    return make_staff(hub, merchant.id, "owner")


@pytest.fixture
def signed_in_owner(client, owner):
    assert sign_in(client, owner.email).status_code == 302
    return owner


def console_routes(app) -> list[str]:
    """Every GET page of the console, with ids filled in."""
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and "GET" in rule.methods:
            if rule.endpoint in ("console.static",):
                continue
            paths.append(re.sub(r"<int:\w+>", "1", rule.rule))
    return paths


PUBLIC = {"/console/", "/console/sign-in", "/console/forgot"}


def test_every_console_page_sends_an_anonymous_visitor_to_sign_in(app, client, member):
    for path in console_routes(app):
        if path in PUBLIC or path.startswith("/console/link/"):
            continue
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/console/sign-in" in response.headers["Location"]


def test_a_user_of_another_merchant_sees_not_found_never_the_member(
    client, hub, member, other_merchant
):
    stranger = make_staff(hub, other_merchant.id, "owner")
    sign_in(client, stranger.email)

    for path in (
        f"/console/members/{member['id']}",
        f"/console/members/{member['id']}/merge?other=1",
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert "Lan" not in response.get_data(as_text=True)
    listing = client.get("/console/members").get_data(as_text=True)
    assert "Nguyễn Thị Lan" not in listing
    token = csrf(client)
    response = client.post(
        f"/console/members/{member['id']}/adjust",
        data={"points": "100", "reason": "x", "csrf_token": token},
    )
    assert response.status_code == 404


def test_a_form_without_its_csrf_token_is_refused(client, signed_in_owner, member, api):
    response = client.post(
        f"/console/members/{member['id']}/adjust", data={"points": "100", "reason": "gift"}
    )
    assert response.status_code == 400
    assert api.get(f"/api/v1/members/{member['id']}").json["points"]["available"] == 0
    wrong = client.post(
        f"/console/members/{member['id']}/adjust",
        data={"points": "100", "reason": "gift"},
        headers={"X-CSRF-Token": "0" * 64},
    )
    assert wrong.status_code == 400


def test_an_htmx_request_carries_the_token_in_its_header(client, signed_in_owner, member, api):
    response = client.post(
        f"/console/members/{member['id']}/adjust",
        data={"points": "100", "reason": "gift"},
        headers={"X-CSRF-Token": csrf(client), "HX-Request": "true"},
    )
    assert response.status_code == 302
    assert api.get(f"/api/v1/members/{member['id']}").json["points"]["available"] == 100


def test_a_cashier_reaches_the_counter_and_no_manager_page(client, hub, merchant, member):
    cashier = make_staff(hub, merchant.id, "cashier")
    response = sign_in(client, cashier.email)
    assert response.headers["Location"].endswith("/console/counter")
    assert client.get("/console/counter?q=0912345678").status_code == 200
    for path in (
        "/console/overview",
        "/console/members",
        f"/console/members/{member['id']}",
        "/console/members.csv",
        "/console/settings/staff",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Nguyễn Thị Lan" not in response.get_data(as_text=True)


def test_a_manager_cannot_open_settings(client, hub, merchant):
    manager = make_staff(hub, merchant.id, "manager")
    sign_in(client, manager.email)
    assert client.get("/console/members").status_code == 200
    assert client.get("/console/settings/api-keys").status_code == 403


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(client, owner):
    response = sign_in(client, owner.email)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("hub_console="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    page = client.get("/console/sign-in", base_url="https://hub.example")
    token = csrf_of(page.get_data(as_text=True))
    secure = client.post(
        "/console/sign-in",
        base_url="https://hub.example",
        data={"email": owner.email, "password": PASSWORD, "csrf_token": token},
    )
    cookie = next(c for c in secure.headers.getlist("Set-Cookie") if c.startswith("hub_console="))
    assert "Secure" in cookie


def test_signing_in_rotates_and_signing_out_revokes_the_session(app, client, owner):
    sign_in(client, owner.email)
    first = client.get_cookie("hub_console", path="/console").value
    sign_in(client, owner.email)
    second = client.get_cookie("hub_console", path="/console").value
    assert first != second
    client.post("/console/sign-out", data={"csrf_token": csrf(client)})

    replay = app.test_client()
    for value in (first, second):
        replay.set_cookie("hub_console", value, path="/console")
        assert replay.get("/console/members").status_code == 302


def test_a_password_change_revokes_every_session(app, client, hub, owner):
    sign_in(client, owner.email)
    with hub.db.transaction() as session:
        from hub.merchants.staff import password_hasher
        from hub.merchants.staff import set_password
        from hub.models import StaffUser

        person = session.get(StaffUser, owner.id)
        set_password(session, person, "another long password", hasher=password_hasher(hub.config))
    assert client.get("/console/members").status_code == 302
    assert sign_in(client, owner.email, "another long password").status_code == 302


def test_sign_in_is_throttled_per_account_with_a_clear_message(client, owner):
    for _ in range(ACCOUNT_LIMIT):
        assert sign_in(client, owner.email, "wrong password!").status_code == 401
    refused = sign_in(client, owner.email)  # the right password, too late
    assert refused.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in refused.get_data(as_text=True)


def test_throttling_ends_when_the_window_has_passed(client, hub, owner):
    with hub.db.transaction() as session:
        for _ in range(ACCOUNT_LIMIT):
            record_failure(session, owner.email, "127.0.0.1", now=utcnow() - timedelta(minutes=16))
    assert sign_in(client, owner.email).status_code == 302


def test_sign_in_is_throttled_per_address_across_accounts(client, hub, owner):
    with hub.db.transaction() as session:
        for n in range(20):
            record_failure(session, f"guess{n}@x.example", "127.0.0.1")
    assert sign_in(client, owner.email).status_code == 429


def test_a_wrong_password_and_an_unknown_email_answer_alike(client, owner):
    wrong = sign_in(client, owner.email, "not the password")
    unknown = sign_in(client, "nobody@shop.example", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match" in wrong.get_data(as_text=True) or "không khớp" in wrong.get_data(
        as_text=True
    )


def test_a_next_address_outside_the_console_is_ignored(client, owner):
    page = client.get("/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={
            "email": owner.email,
            "password": PASSWORD,
            "next": "https://evil.example/",
            "csrf_token": csrf_of(page.get_data(as_text=True)),
        },
    )
    assert response.headers["Location"].endswith("/console/overview")


@pytest.mark.parametrize("payload", XSS)
def test_member_names_are_escaped_on_every_page(client, signed_in_owner, api, payload):
    created = api.post("/api/v1/members", json={"name": payload, "phone": "0987654321"}).json
    for path in (
        "/console/members",
        f"/console/members/{created['id']}",
        "/console/counter?q=0987654321",
    ):
        html = client.get(path).get_data(as_text=True)
        assert payload not in html, path
        assert "&lt;" in html or "&#34;&gt;" in html or "&quot;&gt;" in html


def test_search_ignores_accents_in_the_console_and_the_api(client, signed_in_owner, api, member):
    api.post("/api/v1/members", json={"name": "Trần Văn Đức", "phone": "0901111222"})
    assert "Nguyễn Thị Lan" in client.get("/console/members?q=nguyen").get_data(as_text=True)
    assert "Trần Văn Đức" in client.get("/console/members?q=duc").get_data(as_text=True)
    assert [m["name"] for m in api.get("/api/v1/members?q=NGUYEN thi").json["data"]] == [
        "Nguyễn Thị Lan"
    ]
    assert [m["name"] for m in api.get("/api/v1/members?q=tran van duc").json["data"]] == [
        "Trần Văn Đức"
    ]


def test_members_filter_by_points_and_the_empty_state_says_what_next(
    client, signed_in_owner, api, member
):
    api.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": 500, "reason": "x"})
    assert "Nguyễn Thị Lan" in client.get("/console/members?points_min=400").get_data(as_text=True)
    none = client.get("/console/members?points_min=600").get_data(as_text=True)
    assert "Nguyễn Thị Lan" not in none and "Xóa bộ lọc" in none


def test_the_csv_export_streams_the_filtered_members(client, signed_in_owner, api, member):
    api.post("/api/v1/members", json={"name": "=cmd|calc", "phone": "0903333444"})
    response = client.get("/console/members.csv?q=nguyen")
    assert response.is_streamed
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("id,code,name") and len(lines) == 2
    everyone = client.get("/console/members.csv").get_data(as_text=True)
    assert "'=cmd|calc" in everyone


def test_adjusting_points_from_the_profile_is_the_api_adjustment(
    client, signed_in_owner, api, member
):
    response = client.post(
        f"/console/members/{member['id']}/adjust",
        data={"points": "250", "reason": "Khách quen", "csrf_token": csrf(client)},
        follow_redirects=True,
    )
    assert "Đã điều chỉnh điểm." in response.get_data(as_text=True)
    ledger = api.get(f"/api/v1/members/{member['id']}/ledger").json["data"]
    assert ledger[0]["points"] == 250 and ledger[0]["actor"] == f"staff:{signed_in_owner.id}"


def test_removing_more_points_than_there_are_shows_the_refusal(client, signed_in_owner, member):
    response = client.post(
        f"/console/members/{member['id']}/adjust",
        data={"points": "-5", "reason": "x", "csrf_token": csrf(client)},
    )
    assert response.status_code == 409
    assert "không đủ điểm" in response.get_data(as_text=True)


def test_merge_preview_then_merge(client, signed_in_owner, api, member):
    other = api.post(
        "/api/v1/members", json={"name": "Lan (cũ)", "email": "lan.old@example.vn"}
    ).json
    preview = client.get(f"/console/members/{member['id']}/merge?other={other['id']}")
    assert preview.status_code == 200 and "Lan (cũ)" in preview.get_data(as_text=True)
    client.post(
        f"/console/members/{member['id']}/merge",
        data={"other": str(other["id"]), "csrf_token": csrf(client)},
    )
    assert api.get(f"/api/v1/members/{other['id']}").json["status"] == "merged"


def test_editing_contact_and_erasing(client, signed_in_owner, api, member):
    token = csrf(client)
    client.post(
        f"/console/members/{member['id']}/contact",
        data={
            "name": "Nguyễn Lan",
            "phone": "0912345678",
            "email": "",
            "province": "Huế",
            "csrf_token": token,
        },
    )
    data = api.get(f"/api/v1/members/{member['id']}").json
    assert data["name"] == "Nguyễn Lan" and data["province"] == "Huế"
    client.post(f"/console/members/{member['id']}/erase", data={"csrf_token": token})
    assert api.get(f"/api/v1/members/{member['id']}").status_code == 404


def test_owner_invites_a_cashier_who_sets_a_password_by_link(app, client, signed_in_owner):
    page = client.post(
        "/console/settings/staff",
        data={
            "email": "thu.ngan@shop.example",
            "role": "cashier",
            "csrf_token": csrf(client),
        },
    )
    link = re.search(r'value="(http[^"]+/console/link/[^"]+)"', page.get_data(as_text=True))
    path = link.group(1).split("localhost", 1)[1]
    newcomer = app.test_client()
    form = newcomer.get(path).get_data(as_text=True)
    done = newcomer.post(
        path,
        data={
            "name": "Thu",
            "password": "a long password",
            "password_again": "a long password",
            "csrf_token": csrf_of(form),
        },
    )
    assert done.headers["Location"].endswith("/console/counter")
    assert newcomer.get(path).status_code == 404  # a link works once


def test_api_keys_are_shown_once_and_revoked(client, signed_in_owner):
    page = client.post(
        "/console/settings/api-keys", data={"name": "POS", "csrf_token": csrf(client)}
    )
    secret = re.search(r'value="(hub_[^"]+)"', page.get_data(as_text=True)).group(1)
    assert (
        client.get("/api/v1/members", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    listing = client.get("/console/settings/api-keys").get_data(as_text=True)
    assert secret not in listing
    key_id = re.findall(r"/settings/api-keys/(\d+)/revoke", listing)[-1]
    client.post(f"/console/settings/api-keys/{key_id}/revoke", data={"csrf_token": csrf(client)})
    assert (
        client.get("/api/v1/members", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )


def test_the_last_owner_cannot_be_demoted(client, signed_in_owner):
    response = client.post(
        f"/console/settings/staff/{signed_in_owner.id}",
        data={
            "action": "role",
            "role": "manager",
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 409


def test_each_user_chooses_the_language_and_money_follows_it(client, signed_in_owner, api, member):
    api.post(f"/api/v1/members/{member['id']}/adjustments", json={"points": 5, "reason": "x"})
    assert "Khách hàng" in client.get("/console/members").get_data(as_text=True)
    client.post("/console/language", data={"locale": "en", "csrf_token": csrf(client)})
    html = client.get("/console/members").get_data(as_text=True)
    assert 'lang="en"' in html and "Total spent" in html and "₫0" in html


def test_the_language_chosen_before_sign_in_stays_after_it(client, owner):
    client.post("/console/language", data={"locale": "en", "csrf_token": csrf(client)})
    sign_in(client, owner.email)
    html = client.get("/console/members").get_data(as_text=True)
    assert 'lang="en"' in html and "Sign out" in html


def test_every_catalogue_string_has_its_vietnamese_and_the_compiled_file_is_current():
    from pathlib import Path

    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    folder = Path(__file__).parent.parent / "hub" / "console" / "translations"
    po = read_po((folder / "vi/LC_MESSAGES/messages.po").open("rb"))
    mo = read_mo((folder / "vi/LC_MESSAGES/messages.mo").open("rb"))
    untranslated = [
        m.id for m in po if m.id and not (m.string if isinstance(m.string, str) else all(m.string))
    ]
    assert untranslated == []

    def entries(catalog):
        def plain(value):
            return tuple(value) if isinstance(value, list | tuple) else value

        return {plain(m.id): plain(m.string) for m in catalog if m.id}

    assert entries(po) == entries(mo)


def test_merchants_create_makes_the_owner_and_prints_a_sign_in_link(app, runner):
    result = runner.invoke(
        args=["merchants", "create", "Tiệm Bánh", "--owner-email", "chu@banh.vn", "--json"]
    )
    out = json.loads(result.output)
    assert {"merchant_id", "api_key", "owner_email", "sign_in_link"} <= out.keys()
    path = "/console/link/" + out["sign_in_link"].rsplit("/", 1)[1]
    assert app.test_client().get(path).status_code == 200


def test_staff_reset_link_for_an_unknown_email_is_a_clear_error(runner):
    result = runner.invoke(args=["staff", "reset-link", "nobody@x.example"])
    assert result.exit_code != 0 and "no console user" in result.output
    assert "Traceback" not in result.output


class SurveysPage:
    bp = Blueprint("surveys", __name__)

    @hookimpl
    def register_console_pages(self, hub):
        return [ConsolePage("surveys", "surveys.page", {"vi": "Khảo sát", "en": "Surveys"})]

    @hookimpl
    def register_blueprints(self, hub):
        return [self.bp]


@SurveysPage.bp.get("/console-surveys", endpoint="page")
def _surveys_page():
    return "surveys"


@pytest.fixture
def hub_plugins():
    return [SurveysPage()]


def test_hook_register_console_pages_adds_a_navigation_entry(client, signed_in_owner):
    html = client.get("/console/overview").get_data(as_text=True)
    assert 'href="/console-surveys"' in html and "Khảo sát" in html
