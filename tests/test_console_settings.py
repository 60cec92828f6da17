"""Shop settings and the audit log, in the console and through the API (one service each)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from console_support import csrf
from console_support import make_staff
from test_console_connections import XSS
from test_console_connections import sign_in_english

from hub import audit
from hub.db import utcnow
from hub.models import AuditRecord


@pytest.fixture
def owner(client, hub, merchant):
    person = make_staff(hub, merchant.id, "owner")
    sign_in_english(client, person)
    return person


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def add_records(hub, merchant_id: int, *specs) -> None:
    """Audit records as (actor, action, days ago)."""
    now = utcnow()
    with hub.db.transaction() as session:
        for actor, action, _days in specs:
            audit.record(session, merchant_id, actor=actor, action=action, object_type="x",
                         object_id=1, data={"note": XSS})  # fmt: skip
            session.flush()
        rows = (
            session.query(AuditRecord)
            .filter_by(merchant_id=merchant_id)
            .order_by(AuditRecord.id)
            .all()
        )
        for row, (_actor, _action, days) in zip(rows[-len(specs) :], specs, strict=True):
            row.created_at = now - timedelta(days=days)


# -- the API ------------------------------------------------------------------------------


def test_the_api_lists_the_audit_log_filtered_and_paged(hub, api, merchant):
    add_records(
        hub, merchant.id,
        ("staff:1", "connection.created", 9), ("staff:1", "connection.updated", 5),
        ("api_key:3", "reward.created", 2), ("cli", "connection_x.odd", 1),
    )  # fmt: skip
    everything = api.get("/api/v1/audit").json["data"]
    assert [r["action"] for r in everything] == [
        "connection_x.odd", "reward.created", "connection.updated", "connection.created",
        "api_key.created",  # the test merchant's key, made with it
    ]  # fmt: skip
    family = api.get("/api/v1/audit?action=connection").json["data"]
    assert [r["action"] for r in family] == ["connection.updated", "connection.created"]
    exact = api.get("/api/v1/audit?action=connection.updated&actor=staff:1").json["data"]
    assert [r["action"] for r in exact] == ["connection.updated"]
    since = (utcnow() - timedelta(days=6)).isoformat()
    until = (utcnow() - timedelta(days=1, hours=12)).isoformat()
    window = api.get("/api/v1/audit", query_string={"since": since, "until": until}).json
    assert [r["action"] for r in window["data"]] == ["reward.created", "connection.updated"]
    first = api.get("/api/v1/audit?limit=4").json
    rest = api.get(f"/api/v1/audit?limit=4&cursor={first['next_cursor']}").json
    assert [r["id"] for r in first["data"] + rest["data"]] == [r["id"] for r in everything]
    assert rest["next_cursor"] is None


def test_bad_audit_filters_are_clear_422s(api):
    for query in ("cursor=nonsense", "since=yesterday", "until=2026-01-01T00:00:00", "limit=0"):
        answer = api.get(f"/api/v1/audit?{query}")
        assert answer.status_code == 422, query
        assert answer.json["error"]["code"]


def test_another_merchants_audit_log_is_never_listed(hub, api, other_api, merchant):
    add_records(hub, merchant.id, ("staff:1", "reward.created", 0))
    mine = {r["id"] for r in api.get("/api/v1/audit").json["data"]}
    theirs = {r["id"] for r in other_api.get("/api/v1/audit").json["data"]}
    assert len(mine) == 2 and mine.isdisjoint(theirs)
    assert other_api.get("/api/v1/audit?action=reward").json["data"] == []


def test_changing_the_merchant_through_the_api_is_audited(api):
    changed = api.patch("/api/v1/merchant", json={"timezone": "Asia/Bangkok"})
    assert changed.status_code == 200 and changed.json["timezone"] == "Asia/Bangkok"
    [record] = api.get("/api/v1/audit?action=merchant.updated").json["data"]
    assert record["data"] == {"fields": ["timezone"]} and record["actor"].startswith("api_key:")


# -- the console --------------------------------------------------------------------------


def test_the_shop_settings_are_saved_through_the_merchant_service(client, api, owner):
    html = page(client, "/console/settings")
    assert 'value="Asia/Ho_Chi_Minh"' in html
    saved = client.post(
        "/console/settings",
        data={"csrf_token": csrf(client), "name": "Tiệm Trà Sen", "timezone": "Asia/Bangkok",
              "locale": "en", "currency": "USD"},
    )  # fmt: skip
    assert saved.status_code == 302
    merchant = api.get("/api/v1/merchant").json
    assert (merchant["name"], merchant["timezone"], merchant["locale"], merchant["currency"]) == (
        "Tiệm Trà Sen", "Asia/Bangkok", "en", "USD",
    )  # fmt: skip
    assert "Shop settings saved" in page(client, saved.headers["Location"])


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [("timezone", "Mars/Olympus", "unknown timezone"), ("currency", "dong", "currency"),
     ("locale", "fr", "locale")],
)  # fmt: skip
def test_bad_shop_settings_are_explained_and_nothing_changes(
    client, api, owner, field, value, says
):
    data = {"csrf_token": csrf(client), "name": "Shop", "timezone": "Asia/Ho_Chi_Minh",
            "locale": "vi", "currency": "VND", field: value}  # fmt: skip
    refused = client.post("/console/settings", data=data)
    assert refused.status_code == 422 and says in refused.get_data(as_text=True)
    assert api.get("/api/v1/merchant").json[field] != value


def test_the_audit_log_shows_who_did_what_and_filters(client, hub, owner, merchant):
    add_records(
        hub, merchant.id,
        (f"staff:{owner.id}", "connection.created", 9), ("api_key:3", "reward.created", 2),
    )  # fmt: skip
    html = page(client, "/console/settings/audit")
    assert "Owner" in html and "API key 3" in html and "connection.created" in html
    assert XSS not in html and "&gt;&lt;img" in html.replace("\\u003c", "&lt;").replace(
        "\\u003e", "&gt;"
    )
    only = page(client, f"/console/settings/audit?actor=staff:{owner.id}")
    assert "connection.created" in only and "reward.created" not in only
    family = page(client, "/console/settings/audit?action=reward")
    assert "reward.created" in family and "connection.created" not in family
    recent = (utcnow() - timedelta(days=3)).date().isoformat()
    dated = page(client, f"/console/settings/audit?from={recent}")
    assert "reward.created" in dated and "connection.created" not in dated
    none = page(client, "/console/settings/audit?action=tier")
    assert "No change matches these filters" in none


def test_the_audit_log_pages_back_in_time(client, hub, owner, merchant):
    add_records(hub, merchant.id, *[("cli", f"points.n{i}", 0) for i in range(55)])
    html = page(client, "/console/settings/audit?action=points")
    assert "points.n54" in html and "points.n4<" not in html and "Older changes" in html
    older = html.split('href="')[-1].split('"')[0].replace("&amp;", "&")
    assert "points.n4<" in page(client, older)


def test_a_bad_cursor_is_an_error_page_not_a_500(client, owner):
    assert client.get("/console/settings/audit?cursor=%%%").status_code == 422


def test_a_manager_reaches_neither_settings_nor_the_audit_log(client, hub, merchant):
    sign_in_english(client, make_staff(hub, merchant.id, "manager"))
    assert client.get("/console/settings").status_code == 403
    assert client.get("/console/settings/audit").status_code == 403
    refused = client.post("/console/settings", data={"csrf_token": csrf(client), "name": "X"})
    assert refused.status_code == 403


def test_another_merchants_audit_records_are_never_shown(client, hub, merchant, other_merchant):
    add_records(hub, merchant.id, ("cli", "reward.secret_change", 0))
    sign_in_english(client, make_staff(hub, other_merchant.id, "owner"))
    assert "reward.secret_change" not in page(client, "/console/settings/audit")


def test_shop_settings_without_the_csrf_token_are_refused(client, owner):
    assert client.post("/console/settings", data={"name": "X"}).status_code == 400
