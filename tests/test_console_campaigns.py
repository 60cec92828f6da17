"""The console's Segments and Campaigns pages: the builder, the live count, the wizard, results."""

from __future__ import annotations

import campaign_fixtures
import pytest
import simulators.fixtures as simulators_fixtures
from campaign_fixtures import add_member
from campaign_fixtures import sent_lines
from campaign_fixtures import vip_segment
from console_support import csrf

from hub.models import Campaign
from hub.models import Segment

daytime = simulators_fixtures.daytime

# Campaigns send advertising SMS "now": the merchant is where the legal window is open.
pytestmark = pytest.mark.usefixtures("daytime")

console = campaign_fixtures.console
outbox = campaign_fixtures.outbox


def _segment_id(hub) -> int:
    with hub.db.session() as session:
        return session.query(Segment.id).scalar()


def test_the_builder_counts_live_and_saves_a_segment(client, hub, api, manager):
    add_member(api, tags=["vip"])
    add_member(api, tags=["vip"])
    add_member(api, tags=["new"])
    token = csrf(client, "/console/segments")
    # As the merchant types, the preview counts the members and shows a sample
    preview = client.post(
        "/console/segments/preview",
        data={"csrf_token": token, "tags": "vip", "match": "all"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "<strong>2</strong>" in html and "Nguyễn Thị Lan" in html
    # A condition the services refuse is said in the preview, not as a crash
    bad = client.post(
        "/console/segments/preview",
        data={"csrf_token": token, "advanced": '{"all": [{"kind": "nope"}]}'},
        headers={"X-CSRF-Token": token},
    )
    assert bad.status_code == 200 and "note bad" in bad.get_data(as_text=True)
    # Saving it lists it with its count
    saved = client.post(
        "/console/segments", data={"csrf_token": token, "name": "VIP", "tags": "vip"}
    )
    assert saved.status_code == 302
    listing = client.get("/console/segments").get_data(as_text=True)
    assert "VIP" in listing and '<td class="num">2</td>' in listing
    page = client.get(f"/console/segments/{_segment_id(hub)}")
    assert page.status_code == 200 and "&#34;tags&#34;" in page.get_data(as_text=True)


def test_a_segment_without_a_name_is_refused_with_the_reason(client, manager):
    token = csrf(client, "/console/segments")
    response = client.post("/console/segments", data={"csrf_token": token, "tags": "vip"})
    assert response.status_code == 400
    assert "<code>name</code>" in response.get_data(as_text=True)


def test_the_wizard_writes_a_campaign_that_is_estimated_tested_scheduled_and_measured(
    client, hub, api, manager, console, outbox
):
    members = [add_member(api) for _ in range(4)]
    segment = api.post(
        "/api/v1/segments",
        json={"name": "VIP", "conditions": {"all": [{"kind": "tags", "tags": ["vip"]}]}},
    ).json
    token = csrf(client, "/console/campaigns")
    created = client.post(
        "/console/campaigns",
        data={
            "csrf_token": token,
            "name": "Tuần lễ vàng",
            "audience": "segment",
            "segment_id": str(segment["id"]),
            "channel": "sms",
            "template_vi": "{shop}: chào {first_name}!",
            "holdout_percent": "0",
            "schedule_type": "now",
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    with hub.db.session() as session:
        campaign_id = session.query(Campaign.id).scalar()
    page = client.get(f"/console/campaigns/{campaign_id}").get_data(as_text=True)
    assert '<strong data-figure="recipients">4</strong>' in page
    tested = client.post(
        f"/console/campaigns/{campaign_id}",
        data={"csrf_token": token, "action": "test", "phone": "0901234567"},
    )
    assert tested.status_code == 302
    assert [line["to"] for line in sent_lines(outbox)] == ["+84901234567"]
    scheduled = client.post(
        f"/console/campaigns/{campaign_id}", data={"csrf_token": token, "action": "schedule"}
    )
    assert scheduled.status_code == 302
    assert len(sent_lines(outbox)) == 1 + len(members)
    results = client.get(f"/console/campaigns/{campaign_id}").get_data(as_text=True)
    assert 'id="results"' in results and '<td class="num" data-figure="sent">4</td>' in results


def test_a_wizard_with_mistakes_says_which_fields(client, manager, console):
    token = csrf(client, "/console/campaigns")
    response = client.post(
        "/console/campaigns",
        data={"csrf_token": token, "name": "X", "channel": "sms", "audience": "segment"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<code>templates</code>" in html


def _draft(api) -> dict:
    return api.post(
        "/api/v1/campaigns",
        json={
            "name": "Tuần lễ vàng",
            "segment_id": vip_segment(api),
            "channel": "sms",
            "templates": {"vi": "{shop}: chào {first_name}!", "en": "{shop}: hi {first_name}!"},
            "holdout_percent": 10,
            "budget": "500000",
        },
    ).json


def test_a_draft_edited_in_the_console_reads_back_changed_through_the_api(
    client, api, manager, console
):
    simulators_fixtures.in_hanoi(api)  # the schedule below is read in the shop's time zone
    add_member(api)
    draft = _draft(api)
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50k", "kind": "amount_off", "value": "50000", "points_cost": 100},
    ).json
    token = csrf(client, f"/console/campaigns/{draft['id']}")
    # The edit form shows the draft as saved
    page = client.get(f"/console/campaigns/{draft['id']}").get_data(as_text=True)
    assert 'value="Tuần lễ vàng"' in page and 'value="500000"' in page
    edited = client.post(
        f"/console/campaigns/{draft['id']}",
        data={
            "csrf_token": token,
            "action": "edit",
            "name": "Tuần lễ bạc",
            "audience": "segment",
            "segment_id": str(draft["segment_id"]),
            "channel": "sms",
            "template_vi": "{shop}: mã {voucher_code} cho {first_name}",
            "reward_id": str(reward["id"]),
            "holdout_percent": "20",
            "attribution_days": "14",
            "budget": "",
            "schedule_type": "at",
            "send_at": "2031-12-24T09:00",
        },
    )
    assert edited.status_code == 302, edited.get_data(as_text=True)
    saved = api.get(f"/api/v1/campaigns/{draft['id']}").json
    assert saved["name"] == "Tuần lễ bạc"
    assert saved["templates"] == {"vi": "{shop}: mã {voucher_code} cho {first_name}"}
    assert saved["reward_id"] == reward["id"]
    assert (saved["holdout_percent"], saved["attribution_days"]) == (20, 14)
    assert saved["budget"] is None
    # 09:00 in the shop's time zone (Asia/Ho_Chi_Minh, UTC+7) is 02:00 UTC
    assert saved["schedule"]["type"] == "at"
    assert saved["schedule"]["at"].startswith("2031-12-24T02:00:00")
    again = client.get(f"/console/campaigns/{draft['id']}").get_data(as_text=True)
    assert 'value="2031-12-24T09:00"' in again and 'value="20"' in again


def test_an_edit_the_schema_refuses_keeps_the_draft_and_says_why(client, api, manager, console):
    draft = _draft(api)
    token = csrf(client, f"/console/campaigns/{draft['id']}")
    response = client.post(
        f"/console/campaigns/{draft['id']}",
        data={
            "csrf_token": token,
            "action": "edit",
            "name": "Tuần lễ vàng",
            "audience": "segment",
            "segment_id": str(draft["segment_id"]),
            "channel": "sms",
            "template_vi": "{shop}: {nobody}",
            "holdout_percent": "80",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<code>holdout_percent</code>" in html
    assert '<details id="edit" open>' in html and "{shop}: {nobody}" in html
    assert api.get(f"/api/v1/campaigns/{draft['id']}").json["holdout_percent"] == 10


def test_a_scheduled_campaign_offers_no_edit_and_refuses_one(client, api, manager, console):
    add_member(api)
    draft = _draft(api)
    api.post(f"/api/v1/campaigns/{draft['id']}/schedule")
    token = csrf(client, f"/console/campaigns/{draft['id']}")
    assert 'id="edit"' not in client.get(f"/console/campaigns/{draft['id']}").get_data(as_text=True)
    response = client.post(
        f"/console/campaigns/{draft['id']}",
        data={
            "csrf_token": token,
            "action": "edit",
            "name": "Khác",
            "audience": "segment",
            "segment_id": str(draft["segment_id"]),
            "channel": "sms",
            "template_vi": "{shop}",
        },
    )
    assert response.status_code == 409
    assert api.get(f"/api/v1/campaigns/{draft['id']}").json["name"] == "Tuần lễ vàng"
