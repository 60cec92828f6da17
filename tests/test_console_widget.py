"""The Widget page: the look and links saved as the connection's settings, the snippet, the
widget secret shown once; roles, tenancy, CSRF and hostile input."""

from __future__ import annotations

import re

import pytest
from console_support import csrf
from console_support import make_staff
from test_console_connections import XSS
from test_console_connections import sign_in_english


@pytest.fixture
def owner(client, hub, merchant):
    person = make_staff(hub, merchant.id, "owner")
    sign_in_english(client, person)
    return person


@pytest.fixture
def store(api):
    made = api.post("/api/v1/connections", json={"connector": "custom", "name": "Web Trà Sen"})
    return made.json["id"]


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def save(client, connection_id: int, **fields):
    data = {
        "csrf_token": csrf(client),
        "colour": "#8a4b14",
        "position": "left",
        "launcher_text": "Trà Sen Club",
        "origins": "https://shop.example.vn\nhttps://m.shop.example.vn",
        "join_url": "https://shop.example.vn/account/register",
        "referral_url": "https://shop.example.vn/?ref={code}",
    }
    data.update(fields)
    return client.post(f"/console/widget/{connection_id}", data=data)


def test_without_a_storefront_the_page_says_to_connect_one(client, owner):
    html = page(client, "/console/widget")
    assert "No storefront yet" in html and 'href="/console/connections"' in html


def test_the_widget_is_saved_as_the_connections_settings_and_the_widget_reads_it(
    client, owner, api, store
):
    saved = save(client, store)
    assert saved.status_code == 302
    settings = api.get(f"/api/v1/connections/{store}").json["settings"]
    assert settings["widget"] == {
        "colour": "#8a4b14",
        "position": "left",
        "launcher_text": "Trà Sen Club",
    }
    assert settings["storefront_origins"] == [
        "https://shop.example.vn",
        "https://m.shop.example.vn",
    ]
    html = page(client, saved.headers["Location"])
    assert "Widget saved" in html and 'value="#8a4b14"' in html and "Trà Sen Club" in html
    state = client.get(f"/widget/v1/c/{store}/state", headers={"Origin": "https://shop.example.vn"})
    assert state.status_code == 200, state.data[:300]
    assert state.json["theme"] == {
        "colour": "#8a4b14",
        "position": "left",
        "launcher_text": "Trà Sen Club",
    }


def test_bad_settings_are_explained_and_nothing_is_saved(client, owner, api, store):
    refused = save(client, store, colour="red", join_url="javascript:alert(1)")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "colour" in html and "join_url" in html
    assert "widget" not in api.get(f"/api/v1/connections/{store}").json["settings"]


def test_the_snippet_names_the_connection_and_the_chosen_language(client, owner, store):
    html = page(client, f"/console/widget?connection={store}&locale=en")
    snippet = re.search(r'<textarea id="snippet"[^>]*>([^<]*)</textarea>', html).group(1)
    assert f"data-connection=&#34;{store}&#34;" in snippet
    assert "/widget/v1/loader.js" in snippet and "data-locale=&#34;en&#34;" in snippet
    auto = page(client, f"/console/widget?connection={store}&locale=auto")
    assert "data-locale" not in re.search(r'id="snippet"[^>]*>([^<]*)<', auto).group(1)


def test_the_widget_secret_is_shown_once_and_signs_tokens(client, hub, owner, store):
    made = client.post(f"/console/widget/{store}/secret", data={"csrf_token": csrf(client)})
    html = made.get_data(as_text=True)
    secret = re.search(r'id="widget-secret" class="secret" readonly value="([^"]+)"', html).group(1)
    again = page(client, f"/console/widget?connection={store}")
    assert secret not in again and "The storefront has a widget secret" in again
    from hub.merchants.connections import connection_secrets
    from hub.models import Connection

    with hub.db.session() as session:
        assert connection_secrets(hub, session.get(Connection, store))["widget_secret"] == secret


def test_hostile_launcher_text_is_escaped(client, owner, store):
    save(client, store, launcher_text=XSS)
    html = page(client, f"/console/widget?connection={store}")
    assert XSS not in html and "&#34;&gt;&lt;img" in html


def test_a_manager_saves_the_look_but_cannot_make_the_secret(client, hub, merchant, store):
    sign_in_english(client, make_staff(hub, merchant.id, "manager"))
    assert save(client, store).status_code == 302
    refused = client.post(f"/console/widget/{store}/secret", data={"csrf_token": csrf(client)})
    assert refused.status_code == 403


def test_a_cashier_cannot_open_the_widget_page(client, hub, merchant, store):
    sign_in_english(client, make_staff(hub, merchant.id, "cashier"))
    assert client.get("/console/widget").status_code == 403


def test_another_merchants_storefront_is_404_and_never_listed(client, hub, other_merchant, store):
    sign_in_english(client, make_staff(hub, other_merchant.id, "owner"))
    assert "Web Trà Sen" not in page(client, f"/console/widget?connection={store}")
    assert save(client, store).status_code == 404
    assert (
        client.post(
            f"/console/widget/{store}/secret", data={"csrf_token": csrf(client)}
        ).status_code
        == 404
    )


def test_a_save_without_its_csrf_token_is_refused(client, owner, store):
    assert save(client, store, csrf_token="").status_code == 400
