"""Connectors' titles and descriptions on the Connections page, in the page's language."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po
from console_support import make_staff
from console_support import sign_in
from test_console_connections import sign_in_english

from hub.console.connector_labels import CONNECTOR_LABELS
from hub.console.i18n import TRANSLATIONS

BUILT_IN = ("api", "brevo", "console", "custom", "esms", "haravan", "kiotviet", "pos",
            "shopify", "smtp", "speedsms", "twilio", "zalo")  # fmt: skip


@pytest.fixture
def owner(hub, merchant):
    return make_staff(hub, merchant.id, "owner")


def test_every_built_in_connectors_words_are_in_the_catalogue_in_vietnamese(hub):
    with (TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        vietnamese = {m.id: m.string for m in read_po(handle) if m.id}
    for name in BUILT_IN:
        connector = hub.connectors[name]
        for words in (connector.title, connector.description):
            assert words in CONNECTOR_LABELS, f"{name}: add {words!r} to connector_labels"
            assert vietnamese.get(words), f"{name}: translate {words!r}"


def test_a_vietnamese_page_shows_the_connectors_in_vietnamese(client, owner):
    assert sign_in(client, owner.email).status_code == 302
    page = client.get("/console/connections?connector=pos").get_data(as_text=True)
    assert "Máy bán hàng tại quầy (API quầy)" in page
    assert "Mọi máy bán hàng gọi /pos/v1 bằng khóa POS" in page
    assert "Point of sale (counter API)" not in page
    # nothing left in English to mark
    assert '<option lang="en"' not in page and '<p class="muted" lang="en">' not in page
    kiotviet = client.get("/console/connections?connector=kiotviet").get_data(as_text=True)
    assert "Hóa đơn, đơn hàng và khách hàng từ cửa hàng KiotViet" in kiotviet


def test_an_english_page_shows_the_connectors_own_words(client, owner):
    sign_in_english(client, owner)
    page = client.get("/console/connections?connector=esms").get_data(as_text=True)
    assert "SMS brandname and Zalo ZNS through eSMS.vn; receipts by callback." in page
    assert "Point of sale (counter API)" in page


def test_a_connection_page_names_its_connector_in_the_pages_language(client, api, owner):
    created = api.post("/api/v1/connections", json={"connector": "pos", "name": "Quầy 1"})
    assert created.status_code == 201, created.json
    assert sign_in(client, owner.email).status_code == 302
    page = client.get(f"/console/connections/{created.json['id']}").get_data(as_text=True)
    assert "Máy bán hàng tại quầy (API quầy)" in page


def test_a_plugins_words_not_in_the_catalogue_are_shown_as_written_and_marked_english(
    client, hub, owner, monkeypatch
):
    connector = hub.connectors["console"]
    monkeypatch.setattr(type(connector), "description", "A plugin nobody translated.")
    assert sign_in(client, owner.email).status_code == 302
    page = client.get("/console/connections?connector=console").get_data(as_text=True)
    assert '<p class="muted" lang="en">A plugin nobody translated.</p>' in page
