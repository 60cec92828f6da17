"""Consent on a member's page: shown as it can be proven, recorded with what was agreed."""

from __future__ import annotations

import pytest
from console_support import csrf


@pytest.fixture
def signed_in(client, manager):
    """A manager reading the console in English."""
    client.post("/console/language", data={"locale": "en", "csrf_token": csrf(client)})
    return manager


def _record(client, member_id: int, **fields) -> object:
    return client.post(
        f"/console/members/{member_id}/consent",
        data={"csrf_token": csrf(client), **fields},
    )


def test_a_consent_recorded_by_staff_is_shown_with_who_when_how_and_what(
    client, signed_in, api, member
):
    page = client.get(f"/console/members/{member['id']}").get_data(as_text=True)
    # Nothing is ticked in advance: no answer chosen, no channel chosen
    form = page.split('id="consent"', 1)[1]
    assert " checked" not in form and " selected" not in form
    done = _record(
        client,
        member["id"],
        channel="sms",
        answer="granted",
        evidence="Phiếu đăng ký giấy số 0042, ô 'Nhận tin khuyến mãi qua SMS'",
    )
    assert done.status_code == 302
    consent = api.get(f"/api/v1/members/{member['id']}").json["consents"]["sms"]
    assert consent["granted"] is True and consent["source"] == "console"
    assert consent["actor"] == f"staff:{signed_in.id}"
    assert consent["evidence"].startswith("Phiếu đăng ký giấy số 0042")
    shown = client.get(f"/console/members/{member['id']}").get_data(as_text=True)
    row = shown.split('data-consent="sms"', 1)[1].split("</tr>", 1)[0]
    assert f"staff:{signed_in.id}" in row and "0042" in row
    # Zalo was never asked, and says so
    assert 'data-consent="zalo"' in shown


def test_a_consent_given_without_what_was_agreed_is_refused(client, signed_in, api, member):
    refused = _record(client, member["id"], channel="sms", answer="granted", evidence=" ")
    assert refused.status_code == 422
    assert api.get(f"/api/v1/members/{member['id']}").json["consents"] == {}


def test_a_consent_without_a_chosen_answer_is_refused(client, signed_in, api, member):
    refused = _record(client, member["id"], channel="email", evidence="x")
    assert refused.status_code == 422
    assert (
        _record(client, member["id"], channel="fax", answer="granted", evidence="x").status_code
        == 422
    )
    assert api.get(f"/api/v1/members/{member['id']}").json["consents"] == {}


def test_a_withdrawal_is_honoured_at_once_and_needs_no_evidence(client, signed_in, api, member):
    api.patch(
        f"/api/v1/members/{member['id']}",
        json={"consents": {"sms": True}, "consent_evidence": "web form"},
    )
    assert _record(client, member["id"], channel="sms", answer="withdrawn").status_code == 302
    consent = api.get(f"/api/v1/members/{member['id']}").json["consents"]["sms"]
    assert consent["granted"] is False and consent["source"] == "console"
    shown = client.get(f"/console/members/{member['id']}").get_data(as_text=True)
    assert "Withdrawn" in shown.split('data-consent="sms"', 1)[1].split("</tr>", 1)[0]
