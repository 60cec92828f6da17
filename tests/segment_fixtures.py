"""Members, orders and a fixed clock for the segment tests."""

from __future__ import annotations

import itertools
from datetime import UTC
from datetime import datetime

from hub.segments import segment_members

#: The fixed clock: 01:00 on 31 December 2026 in Ho Chi Minh City, still the 30th in UTC.
NOW = datetime(2026, 12, 30, 18, 0, tzinfo=UTC)

_phones = itertools.count(1)
_orders = itertools.count(1)


def add_member(api, **fields) -> int:
    """Create a member through the API; return its id."""
    body = {"phone": f"09{next(_phones):08d}", "name": "Khách", **fields}
    response = api.post("/api/v1/members", json=body)
    assert response.status_code == 201, response.json
    return response.json["id"]


def add_order(api, member_id: int, total: str, placed_at: str, status: str = "paid") -> None:
    """Record an order of the member through the API, placed at ``placed_at`` (ISO 8601)."""
    member = api.get(f"/api/v1/members/{member_id}").json
    body = {
        "source": "webshop",
        "external_id": f"o-{next(_orders)}",
        "currency": "VND",
        "subtotal": total,
        "total": total,
        "financial_status": status,
        "placed_at": placed_at,
        "customer": {"phone": member["phone"]},
    }
    response = api.post("/api/v1/orders", json=body)
    assert response.status_code in (200, 201), response.json
    assert response.json["member_id"] == member_id


def picked(hub, merchant_id: int, conditions, now: datetime = NOW) -> set[int]:
    """The ids of the members the conditions pick, with the clock at ``now``."""
    with hub.app.app_context(), hub.db.session() as session:
        query = segment_members(session, merchant_id, conditions, now=now)
        return set(session.scalars(query))


def one(kind: str, **fields) -> dict:
    """Conditions of a single condition."""
    return {"all": [{"kind": kind, **fields}]}
