"""The console's Program page: the form, the preview on real orders, saving a version."""

from __future__ import annotations

import pytest
from console_support import csrf
from console_support import make_staff
from console_support import sign_in

FORM = {
    "enabled": "on",
    "earn_points": "1",
    "earn_amount": "1000",
    "rounding": "floor",
    "minimum_order": "0",
    "pending_days": "0",
    "expiry_policy": "never",
}


def post(client, **changes):
    data = {**FORM, **changes, "csrf_token": csrf(client, "/console/program")}
    return client.post("/console/program", data={k: v for k, v in data.items() if v is not None})


def an_order(api, external_id="A-1", total="250000"):
    response = api.post(
        "/api/v1/orders",
        json={
            "source": "till",
            "external_id": external_id,
            "subtotal": total,
            "total": total,
            "financial_status": "paid",
            "placed_at": "2026-01-05T10:00:00+07:00",
            "customer": {"phone": "0912345678", "name": "Lan"},
        },
    )
    assert response.status_code in (200, 201), response.json


def test_the_program_page_shows_the_defaults_and_asks_for_a_preview_first(client, manager):
    page = client.get("/console/program").get_data(as_text=True)
    assert "The program runs on the default settings" in page or "mặc định" in page
    assert 'value="preview"' in page
    assert 'value="save"' not in page


def test_a_preview_replays_recent_orders_and_saves_nothing(client, manager, api):
    an_order(api)
    response = post(client, earn_amount="500", action="preview")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "A-1" in page
    assert ">250<" in page and ">500<" in page  # today's points, then the proposal's
    assert 'value="save"' in page
    assert api.get("/api/v1/program").json["version"] == 0


def test_with_no_orders_the_preview_says_so_and_offers_to_save(client, manager):
    page = post(client, action="preview").get_data(as_text=True)
    assert "No orders yet" in page or "Chưa có đơn" in page
    assert 'value="save"' in page


def test_saving_makes_a_new_version_the_api_reads(client, manager, api):
    response = post(client, earn_amount="2000", pending_days="7", action="save")
    assert response.status_code == 302
    program = api.get("/api/v1/program").json
    assert program["version"] == 1
    assert program["settings"]["earn_rate"]["amount"] == "2000"
    assert program["settings"]["pending_days"] == 7
    assert program["actor"] == f"staff:{manager.id}"
    assert client.get(response.headers["Location"]).status_code == 200


def test_settings_the_form_does_not_show_are_kept_on_save(client, manager, api):
    api.patch("/api/v1/program", json={"start_date": "2026-01-01"})
    post(client, earn_amount="3000", action="save")
    assert api.get("/api/v1/program").json["settings"]["start_date"] == "2026-01-01"


@pytest.mark.parametrize(
    "changes",
    [
        {"earn_amount": "abc"},
        {"earn_amount": "0"},
        {"pending_days": "-1"},
        {"expiry_policy": "days"},
        {"rounding": "up"},
    ],
)
def test_bad_settings_are_refused_with_the_field_named(client, manager, api, changes):
    response = post(client, action="save", **changes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="note bad errors"' in page
    assert api.get("/api/v1/program").json["version"] == 0


def test_an_earning_rule_is_switched_on_with_its_schema_fields(client, manager, api):
    response = post(
        client, **{"rule.birthday": "on", "rule.birthday.multiplier": "2"}, action="save"
    )
    assert response.status_code == 302
    rules = api.get("/api/v1/program").json["settings"]["rules"]
    assert rules["birthday"]["multiplier"] == "2"
    page = client.get("/console/program").get_data(as_text=True)
    assert 'name="rule.birthday" checked' in page


def test_a_rule_section_the_rule_refuses_is_shown_not_saved(client, manager, api):
    response = post(client, **{"rule.birthday": "on"}, action="save")
    assert response.status_code == 422
    assert "rules.birthday" in response.get_data(as_text=True)
    response = post(
        client, **{"rule.special_days": "on", "rule.special_days.periods": "[{"}, action="save"
    )
    assert response.status_code == 422
    assert api.get("/api/v1/program").json["version"] == 0


def test_a_cashier_cannot_open_or_change_the_program(client, hub, merchant, api):
    cashier = make_staff(hub, merchant.id, "cashier")
    sign_in(client, cashier.email)
    assert client.get("/console/program").status_code == 403
    token = csrf(client, "/console/counter")
    response = client.post("/console/program", data={**FORM, "action": "save", "csrf_token": token})
    assert response.status_code == 403
    assert api.get("/api/v1/program").json["version"] == 0


def test_the_program_form_needs_its_csrf_token(client, manager, api):
    response = client.post("/console/program", data={**FORM, "action": "save"})
    assert response.status_code == 400
    assert api.get("/api/v1/program").json["version"] == 0


def test_each_merchant_changes_only_its_own_program(client, hub, manager, other_merchant, api):
    stranger = make_staff(hub, other_merchant.id, "owner")
    client.post("/console/sign-out", data={"csrf_token": csrf(client)})
    sign_in(client, stranger.email)
    post(client, earn_amount="9000", action="save")
    assert api.get("/api/v1/program").json["version"] == 0
