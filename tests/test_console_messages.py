"""The console's Messages page: kinds, templates with their preview, limits, the log."""

from __future__ import annotations

import re

import pytest
from console_support import csrf
from console_support import make_staff
from console_support import sign_in

XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
FORM = {
    "quiet_enabled": "on",
    "quiet_start": "21:00",
    "quiet_end": "08:00",
    "per_day": "3",
    "per_week": "10",
}


def post(client, **changes):
    data = {**FORM, **changes, "csrf_token": csrf(client, "/console/messages")}
    return client.post("/console/messages", data=data)


def test_the_page_lists_each_kind_with_both_previews_and_an_empty_log(client, manager):
    page = client.get("/console/messages").get_data(as_text=True)
    assert 'name="kind.thank_you"' in page
    assert 'name="kind.thank_you.vi"' in page and 'name="kind.thank_you.en"' in page
    assert page.count('class="preview"') >= 2
    assert "No messages yet" in page or "Chưa có tin nhắn" in page


def test_saving_switches_a_kind_on_with_its_template_and_limits(client, manager, api):
    response = post(
        client,
        **{"kind.thank_you": "on", "kind.thank_you.en": "Thanks {name}!"},
        per_day="2",
        daily_budget="500000",
        action="save",
    )
    assert response.status_code == 302
    settings = api.get("/api/v1/messaging/settings").json
    assert settings["kinds"]["thank_you"]["enabled"] is True
    assert settings["kinds"]["thank_you"]["templates"]["en"] == "Thanks {name}!"
    assert settings["caps"]["per_day"] == 2
    assert settings["daily_budget"] == "500000"
    assert settings["kinds"]["birthday"]["enabled"] is False


def test_a_draft_template_is_previewed_with_its_sms_parts_and_not_saved(client, manager, api):
    long = "Cảm ơn {name} " + "rất nhiều " * 20
    response = post(client, **{"kind.thank_you.vi": long}, action="preview")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "rất nhiều" in page
    assert re.search(r"SMS: \d+ [^,]+, 2 ", page)  # over one part: the count says two
    assert (
        api.get("/api/v1/messaging/settings").json["kinds"]["thank_you"]["templates"]["vi"] != long
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"kind.thank_you.en": "Hello {unknown_thing}"},
        {"quiet_start": "25:99"},
        {"per_day": "0"},
        {"daily_budget": "-5"},
    ],
)
def test_bad_settings_are_refused_and_nothing_is_saved(client, manager, api, changes):
    response = post(client, action="save", **{"kind.thank_you": "on"}, **changes)
    assert response.status_code == 422
    assert 'class="note bad errors"' in response.get_data(as_text=True)
    assert api.get("/api/v1/messaging/settings").json["kinds"]["thank_you"]["enabled"] is False


@pytest.mark.parametrize("payload", XSS)
def test_a_template_with_markup_is_escaped_in_the_form_and_the_preview(client, manager, payload):
    post(client, **{"kind.thank_you": "on", "kind.thank_you.en": payload}, action="save")
    page = client.get("/console/messages").get_data(as_text=True)
    assert payload not in page
    assert "&lt;" in page


def test_a_cashier_cannot_open_or_change_messages(client, hub, merchant, api):
    cashier = make_staff(hub, merchant.id, "cashier")
    sign_in(client, cashier.email)
    assert client.get("/console/messages").status_code == 403
    token = csrf(client, "/console/counter")
    response = client.post(
        "/console/messages", data={**FORM, "kind.thank_you": "on", "csrf_token": token}
    )
    assert response.status_code == 403
    assert api.get("/api/v1/messaging/settings").json["kinds"]["thank_you"]["enabled"] is False


def test_the_messages_form_needs_its_csrf_token(client, manager, api):
    response = client.post("/console/messages", data={**FORM, "kind.thank_you": "on"})
    assert response.status_code == 400


def test_another_merchants_settings_are_untouched(client, hub, other_merchant, api):
    stranger = make_staff(hub, other_merchant.id, "owner")
    sign_in(client, stranger.email)
    post(client, **{"kind.thank_you": "on"}, action="save")
    assert api.get("/api/v1/messaging/settings").json["kinds"]["thank_you"]["enabled"] is False


def test_the_advertising_opt_out_wording_is_set_on_the_page(client, manager, api):
    page = client.get("/console/messages").get_data(as_text=True)
    assert 'name="sms_opt_out.vi"' in page and "Từ chối nhận QC, trả lời TC" in page
    response = post(
        client,
        **{"sms_opt_out.vi": "Tu choi QC soan TC gui 0901234567", "sms_opt_out.en": ""},
        action="save",
    )
    assert response.status_code == 302
    wording = api.get("/api/v1/messaging/settings").json["sms_opt_out"]
    assert wording["vi"] == "Tu choi QC soan TC gui 0901234567"
    assert not wording.get("en") or wording["en"] == "Reply STOP to opt out"


def test_too_short_opt_out_wording_is_refused_and_named(client, manager, api):
    response = post(client, **{"sms_opt_out.vi": "TC"}, action="save")
    assert response.status_code == 422
    assert "sms_opt_out" in response.get_data(as_text=True)
    assert api.get("/api/v1/messaging/settings").json["sms_opt_out"]["vi"] != "TC"


def test_a_kinds_zns_template_and_tag_are_set_and_its_parameters_kept(client, manager, api):
    params = {"customer_name": "{name}", "order_code": "{order_number}"}
    api.put(
        "/api/v1/messaging/settings",
        json={"kinds": {"thank_you": {"zalo_template": {"template_id": "1", "params": params}}}},
    )
    response = post(
        client,
        **{"kind.thank_you.zns_id": "375847", "kind.thank_you.zns_tag": "transaction"},
        action="save",
    )
    assert response.status_code == 302
    zalo = api.get("/api/v1/messaging/settings").json["kinds"]["thank_you"]["zalo_template"]
    assert (zalo["template_id"], zalo["tag"], zalo["params"]) == ("375847", "transaction", params)
    page = client.get("/console/messages").get_data(as_text=True)
    assert 'value="375847"' in page and '<option value="transaction" selected>' in page
    # An empty id takes the ZNS template away
    assert post(client, **{"kind.thank_you.zns_id": ""}, action="save").status_code == 302
    kind = api.get("/api/v1/messaging/settings").json["kinds"]["thank_you"]
    assert not (kind.get("zalo_template") or {}).get("template_id")
