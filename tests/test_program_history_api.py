"""POST /api/v1/program/preview/history: the console's preview on real orders, through the API."""

from __future__ import annotations

from test_console_program import post as console_post


def an_order(api, external_id: str, total: str, placed_at: str) -> None:
    response = api.post(
        "/api/v1/orders",
        json={
            "source": "till",
            "external_id": external_id,
            "subtotal": total,
            "total": total,
            "financial_status": "paid",
            "placed_at": placed_at,
            "customer": {"phone": "0912345678", "name": "Nguyễn Thị Lan"},
        },
    )
    assert response.status_code in (200, 201), response.json


def test_the_latest_orders_are_replayed_under_the_proposal_and_nothing_is_saved(api):
    an_order(api, "A-1", "250000", "2026-01-05T10:00:00+07:00")
    an_order(api, "A-2", "100000", "2026-01-06T10:00:00+07:00")

    response = api.post("/api/v1/program/preview/history", json={"earn_rate": {"amount": "500"}})

    assert response.status_code == 200, response.json
    rows = response.json["data"]
    assert [r["number"] for r in rows] == ["A-2", "A-1"]
    assert [(r["current"], r["proposed"]) for r in rows] == [(100, 200), (250, 500)]
    assert rows[1]["total"] == "250000" and rows[1]["reason"] is None
    assert rows[1]["placed_at"] == "2026-01-05T03:00:00+00:00"
    assert api.get("/api/v1/program").json["version"] == 0


def test_the_api_and_the_console_show_the_same_numbers(api, client, manager):
    an_order(api, "A-1", "250000", "2026-01-05T10:00:00+07:00")
    body = {"earn_rate": {"amount": "500"}}
    rows = api.post("/api/v1/program/preview/history", json=body).json["data"]
    page = console_post(client, earn_amount="500", action="preview").get_data(as_text=True)
    assert (rows[0]["current"], rows[0]["proposed"]) == (250, 500)
    assert ">250<" in page and ">500<" in page


def test_a_program_that_is_switched_off_says_why_each_order_would_earn_nothing(api):
    an_order(api, "A-1", "250000", "2026-01-05T10:00:00+07:00")
    rows = api.post("/api/v1/program/preview/history", json={"enabled": False}).json["data"]
    assert rows[0]["proposed"] == 0 and rows[0]["reason"] == "program_disabled"


def test_with_no_orders_the_preview_is_empty(api):
    response = api.post("/api/v1/program/preview/history", json={})
    assert response.status_code == 200
    assert response.json == {"data": []}


def test_invalid_settings_are_a_clear_422(api):
    response = api.post("/api/v1/program/preview/history", json={"earn_rate": {"amount": "-5"}})
    assert response.status_code == 422
    assert response.json["error"]["code"] and "earn_rate" in str(response.json["error"]["details"])


def test_another_merchants_orders_are_not_replayed(api, other_api):
    an_order(api, "A-1", "250000", "2026-01-05T10:00:00+07:00")
    assert other_api.post("/api/v1/program/preview/history", json={}).json == {"data": []}
