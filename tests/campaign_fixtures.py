"""Steps the campaign tests share: a gateway, members, a segment, a campaign through the API."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from simulators.fixtures import configure
from simulators.fixtures import in_hanoi

from hub import utcnow
from hub.campaigns.sweep import sweep
from hub.models import Campaign

_phones = itertools.count(1)

VI = "{shop}: chào {first_name}, tuần lễ vàng giảm 20%!"
EN = "{shop}: hi {first_name}, golden week: 20% off!"
WITH_VOUCHER = "{shop}: {first_name} ơi, mã {voucher_code} giảm 50.000đ cho bạn."


@pytest.fixture
def outbox(hub, merchant, tmp_path):
    """The merchant's file in the console gateway's folder (the console gateway writes there)."""
    folder = tmp_path / "console"
    hub.config["HUB_PLUGINS_CONFIG"] = {
        **hub.config.get("HUB_PLUGINS_CONFIG", {}),
        "console": {"directory": str(folder)},
    }
    return folder / f"merchant-{merchant.id}.jsonl"


@pytest.fixture
def console(api, outbox):
    """SMS through the console gateway at 500 VND a part, quiet hours off."""
    response = api.post(
        "/api/v1/connections",
        json={"connector": "console", "name": "console", "settings": {"price": "500"}},
    )
    assert response.status_code == 201, response.json
    connection_id = response.json["id"]
    configure(api, channel_order=["sms"], connections={"sms": connection_id, "zalo": connection_id})
    return connection_id


def sent_lines(outbox) -> list[dict]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text().splitlines()]


def add_member(api, *, consent: bool = True, tags: list[str] | None = None, **fields) -> dict:
    body = {
        "phone": f"09{next(_phones):08d}",
        "name": "Nguyễn Thị Lan",
        "tags": tags if tags is not None else ["vip"],
        "consents": {"sms": consent},
        **fields,
    }
    response = api.post("/api/v1/members", json=body)
    assert response.status_code == 201, response.json
    return response.json


def vip_segment(api) -> int:
    response = api.post(
        "/api/v1/segments",
        json={"name": "VIP", "conditions": {"all": [{"kind": "tags", "tags": ["vip"]}]}},
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def new_campaign(api, **fields: Any) -> dict:
    body = {"name": "Tuần lễ vàng", "channel": "sms", "templates": {"vi": VI, "en": EN}, **fields}
    response = api.post("/api/v1/campaigns", json=body)
    assert response.status_code == 201, response.json
    return response.json


def act(api, campaign_id: int, action: str, status: int = 200) -> dict:
    response = api.post(f"/api/v1/campaigns/{campaign_id}/{action}")
    assert response.status_code == status, response.json
    return response.json


def run_at_night(api, hub) -> tuple[dict, datetime]:
    """Two VIP members of a shop in Hanoi, and a campaign the sweep starts at 23:00 there
    (the jobs inline): its two SMS are held until 07:00. Returns the campaign and 23:00."""
    in_hanoi(api)
    add_member(api)
    add_member(api)
    late = (utcnow() + timedelta(days=1)).replace(hour=16, minute=0, second=0, microsecond=0)
    campaign = new_campaign(
        api, segment_id=vip_segment(api), schedule={"type": "at", "at": late.isoformat()}
    )
    act(api, campaign["id"], "schedule")
    # A held message picked again by the run would spin: the sweep returning is the check.
    assert sweep(hub, now=late)["started"] == 1
    return campaign, late


def results(api, campaign_id: int, **query: Any) -> dict:
    response = api.get(f"/api/v1/campaigns/{campaign_id}/results", query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def campaign_row(hub, campaign_id: int) -> Campaign:
    with hub.db.session() as session:
        campaign = session.get(Campaign, campaign_id)
        session.expunge(campaign)
        return campaign


@pytest.fixture
def app_context(app):
    """An application context, as a worker's job has, for calling the send's steps directly."""
    with app.app_context():
        yield
