"""The counter API (``/pos/v1``): every call a till makes, through the Flask test client."""

from __future__ import annotations

import io
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal

import pytest
import segno
from sqlalchemy import event
from sqlalchemy import select

from connectors.pos.members import Lookup
from connectors.pos.members import read_lookup
from connectors.pos.testing import open_counter
from hub.models import Member
from hub.models import MemberConsent
from hub.models import MemberIdentity
from hub.models import Order
from hub.models import PointEntry
from hub.models import PointLot
from hub.points import ledger


@pytest.fixture
def till(client, merchant):
    return open_counter(client, merchant.headers, location="Quầy Lê Lợi")


@pytest.fixture
def cashier_till(client, merchant):
    """A till of a connection that lets points pay up to half a bill, 100 VND a point."""
    terms = {"enabled": True, "point_value": "100", "max_percent": "50", "min_points": 10}
    return open_counter(client, merchant.headers, location="Quầy Hai Bà Trưng", redemption=terms)


def give(hub, member_id, points):
    with hub.db.transaction() as session:
        member = session.get(Member, member_id)
        ledger.credit(session, member, points, kind="earn", key=f"test:{uuid.uuid4()}")


def add_reward(api, **fields):
    body = {"name": "Giảm 50.000đ", "kind": "amount_off", "value": "50000", "points_cost": 500}
    response = api.post("/api/v1/rewards", json={**body, **fields})
    assert response.status_code == 201, response.json
    return response.json


def voucher_for(api, hub, member, **reward):
    give(hub, member["id"], 500)
    created = add_reward(api, **reward)
    response = api.post(
        f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": created["id"]}
    )
    assert response.status_code == 201, response.json
    return response.json["voucher"]["code"]


def entries(hub, member_id):
    with hub.db.session() as session:
        rows = session.scalars(select(PointEntry).where(PointEntry.member_id == member_id))
        return sorted((e.kind, e.points) for e in rows)


class QueryCounter:
    """Count the SQL statements an app's engine runs (BEGIN and friends excluded)."""

    def __init__(self, hub):
        self.engine = hub.db.engine
        self.statements: list[str] = []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if statement.split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            self.statements.append(statement)


# -- keys ----------------------------------------------------------------------------------


def test_a_pos_key_opens_the_counter_api_and_not_the_merchant_api(client, till, merchant):
    assert till.get("/pos/v1/me").status_code == 200
    assert client.get("/api/v1/members", headers=till.headers).status_code == 401
    assert client.get("/pos/v1/me", headers=merchant.headers).status_code == 401


def test_the_counter_says_who_it_is(till):
    me = till.get("/pos/v1/me").json

    assert me["location"] == "Quầy Lê Lợi"
    assert (me["shop"], me["currency"]) == ("Cửa hàng Hoa Mai", "VND")
    assert me["redemption"] == {"enabled": False}


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer pos_nope", "Basic abc", "Bearer hub_abc_def", "Bearer pos_a_b_c"],
)
def test_missing_or_malformed_keys_answer_401(client, till, header):
    response = client.get("/pos/v1/me", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_a_revoked_key_answers_401_at_once(api, till):
    keys = api.get(f"/api/v1/pos/connections/{till.connection_id}/keys").json
    assert [k["name"] for k in keys] == ["till 1"] and "key" not in keys[0]

    revoked = api.delete(f"/api/v1/pos/connections/{till.connection_id}/keys/{keys[0]['id']}")

    assert revoked.status_code == 204
    assert till.get("/pos/v1/me").status_code == 401


def test_a_disabled_connection_closes_its_counter(api, till):
    api.patch(f"/api/v1/connections/{till.connection_id}", json={"status": "disabled"})

    assert till.get("/pos/v1/me").status_code == 401


def test_keys_are_made_only_for_the_merchants_own_pos_connections(api, other_api, till):
    assert other_api.post(f"/api/v1/pos/connections/{till.connection_id}/keys").status_code == 404
    web = api.post("/api/v1/connections", json={"connector": "api", "name": "web"}).json
    assert api.post(f"/api/v1/pos/connections/{web['id']}/keys").status_code == 404


def test_a_counter_never_sees_another_merchants_members(client, other_merchant, member):
    elsewhere = open_counter(client, other_merchant.headers, location="Chi nhánh khác")

    found = elsewhere.get("/pos/v1/members", params={"q": member["code"]})

    assert found.status_code == 404
    assert elsewhere.get(f"/pos/v1/members/{member['code']}").status_code == 404


# -- looking members up --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["0912345678", "0912 345 678", "+84912345678", "84-912-345-678", "(091) 234 5678"]
)
def test_a_member_is_found_by_phone_however_it_is_typed(till, member, typed):
    found = till.get("/pos/v1/members", params={"q": typed})

    assert found.status_code == 200, found.json
    assert found.json["member"]["id"] == member["id"]
    assert found.json["member"]["phone_hint"] == "•••5678"
    assert "phone" not in found.json["member"] and "email" not in found.json["member"]


def test_a_member_is_found_by_code_or_by_the_text_of_their_qr(till, member):
    code = member["code"]
    for typed in (code, code.lower(), f" {code}\n", f"HUB:{code}", f"{code[:4]}-{code[4:]}"):
        found = till.get("/pos/v1/members", params={"q": typed})
        assert found.status_code == 200, (typed, found.json)
        assert found.json["member"]["code"] == code
    assert till.get(f"/pos/v1/members/{code.lower()}").json["member"]["id"] == member["id"]


def test_a_lookup_can_keep_the_phone_out_of_the_url(till, member):
    found = till.post("/pos/v1/members/lookup", json={"q": "0912 345 678"})

    assert found.status_code == 200 and found.json["member"]["id"] == member["id"]
    assert till.post("/pos/v1/members/lookup", json={"q": 5}).status_code == 422
    assert till.post("/pos/v1/members/lookup", json=["0912345678"]).status_code == 422


def test_an_unknown_lookup_answers_404_and_an_empty_one_422(till, member):
    unknown = till.get("/pos/v1/members", params={"q": "0987654321"})
    assert unknown.status_code == 404
    assert unknown.json["error"]["code"] == "member_not_found"
    assert till.get("/pos/v1/members", params={"q": "  "}).status_code == 422
    assert till.get("/pos/v1/members").status_code == 422


def test_a_lookup_shows_the_balance_tier_and_usable_vouchers(api, hub, till, member):
    api.post("/api/v1/tiers", json={"name": "Bạc", "threshold": "100", "basis": "points"})
    till.sale("HD-1", "800000", member_code=member["code"])
    reward = add_reward(api, validity_days=30)
    redeemed = api.post(
        f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": reward["id"]}
    )

    card = till.get("/pos/v1/members", params={"q": member["code"]}).json["member"]

    merchant_view = api.get(f"/api/v1/members/{member['id']}").json
    assert card["points"] == merchant_view["points"] == {"available": 300, "pending": 0}
    assert card["tier"] == merchant_view["tier"] and card["tier"]["name"] == "Bạc"
    code = redeemed.json["voucher"]["code"]
    assert [(v["code"], v["value"]) for v in card["vouchers"]] == [(code, "50000")]
    assert card["qr_svg_url"] == f"/pos/v1/members/{member['code']}/qr.svg"


def test_pending_and_expired_points_are_not_available(hub, till, member):
    now = datetime.now(UTC)
    with hub.db.transaction() as session:
        row = session.get(Member, member["id"])
        ledger.credit(
            session, row, 70, kind="earn", key="t:pending", available_at=now + timedelta(days=3)
        )
        ledger.credit(
            session,
            row,
            40,
            kind="earn",
            key="t:old",
            expires_at=now - timedelta(days=1),
            now=now - timedelta(days=60),
        )
        ledger.credit(session, row, 25, kind="earn", key="t:live")

    card = till.get("/pos/v1/members", params={"q": member["code"]}).json["member"]

    assert card["points"] == {"available": 25, "pending": 70}


def test_a_lookup_takes_two_queries_after_the_key_however_many_vouchers(api, hub, till, member):
    for _ in range(4):
        voucher_for(api, hub, member)

    with QueryCounter(hub) as counted:
        found = till.get("/pos/v1/members", params={"q": "0912345678"})

    assert found.status_code == 200 and len(found.json["member"]["vouchers"]) == 4
    assert len(counted.statements) == 3  # the key, the member with points and tier, vouchers


def test_a_merged_members_code_finds_the_member_it_was_merged_into(api, till, member):
    other = api.post("/api/v1/members", json={"phone": "0987654321", "name": "Lan (cũ)"}).json
    api.post(f"/api/v1/members/{member['id']}/merge", json={"from_member_id": other["id"]})

    found = till.get(f"/pos/v1/members/{other['code']}")

    assert found.status_code == 200 and found.json["member"]["id"] == member["id"]


def test_the_member_qr_encodes_the_member_code(api, till, member):
    expected = io.BytesIO()
    segno.make_qr(member["code"], error="m").save(
        expected, kind="svg", scale=4, border=2, dark="#111"
    )

    counter_qr = till.get(f"/pos/v1/members/{member['code']}/qr.svg")
    merchant_qr = api.get(f"/api/v1/members/{member['id']}/qr.svg")

    for response in (counter_qr, merchant_qr):
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert merchant_qr.data == expected.getvalue()
    assert b'xmlns="http://www.w3.org/2000/svg"' in merchant_qr.data
    assert api.get("/api/v1/members/999999/qr.svg").status_code == 404


# -- enrolling -----------------------------------------------------------------------------


def test_enrolling_records_consent_with_the_counters_location(hub, till):
    response = till.post(
        "/pos/v1/members",
        json={"phone": "090 123 4567", "name": "Trần Văn Bình", "consents": {"sms": True}},
    )

    assert response.status_code == 201, response.json
    assert response.json["created"] is True
    card = response.json["member"]
    assert card["name"] == "Trần Văn Bình" and len(card["code"]) == 8
    with hub.db.session() as session:
        member = session.get(Member, card["id"])
        consent = session.scalars(select(MemberConsent)).one()
    assert member.phone == "+84901234567"
    assert (consent.channel, consent.granted, consent.source) == ("sms", True, "pos:Quầy Lê Lợi")


def test_enrolling_a_known_phone_answers_the_member_it_belongs_to(hub, till, member):
    response = till.post(
        "/pos/v1/members",
        json={"phone": "0912345678", "consents": {"zalo": True}, "customer_id": "KH-77"},
    )

    assert response.status_code == 200
    assert (response.json["created"], response.json["member"]["id"]) == (False, member["id"])
    with hub.db.session() as session:
        consent = session.scalars(
            select(MemberConsent).where(MemberConsent.channel == "zalo")
        ).one()
        identity = session.scalars(select(MemberIdentity)).one()
    assert consent.source == "pos:Quầy Lê Lợi"
    assert (identity.connection_id, identity.external_id) == (till.connection_id, "KH-77")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Không số"}, "phone"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "0912345678", "consents": {"fax": True}}, "consents"),
        ({"phone": "0912345678", "nickname": "x"}, "nickname"),
    ],
)
def test_enrolling_without_a_valid_phone_answers_422(till, body, field):
    response = till.post("/pos/v1/members", json=body)

    assert response.status_code == 422, response.json
    assert field in response.json["error"]["details"]


# -- sales ---------------------------------------------------------------------------------


def test_a_sale_becomes_an_order_of_the_connection_and_earns(hub, till, member):
    response = till.sale(
        "HD000123",
        "350000",
        member_code=member["code"],
        lines=[{"sku": "CF-1", "title": "Cà phê", "quantity": 2, "price": "175000"}],
    )

    assert response.status_code == 201, response.json
    assert response.json["points"]["earned"] == 350
    assert response.json["points"]["balance"] == {"available": 350, "pending": 0}
    with hub.db.session() as session:
        order = session.scalars(select(Order)).one()
        lines = [(line.sku, line.quantity, line.price) for line in order.lines]
    assert (order.source, order.external_id) == (f"connection:{till.connection_id}", "HD000123")
    assert (order.member_id, order.financial_status, order.total) == (
        member["id"],
        "paid",
        Decimal(350000),
    )
    assert order.placed_at == datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    assert lines == [("CF-1", 2, Decimal(175000))]


def test_a_sale_without_a_member_is_recorded_and_earns_nothing(hub, till):
    response = till.sale("HD-ANON", "120000")

    assert response.status_code == 201
    assert (response.json["member"], response.json["points"]["earned"]) == (None, 0)


def test_the_same_receipt_twice_is_recorded_once(hub, till, member):
    first = till.sale("HD-1", "200000", member_code=member["code"])
    again = till.sale("HD-1", "200000", member_code=member["code"])

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["created"] is False and again.json["points"] == first.json["points"]
    assert entries(hub, member["id"]) == [("earn", 200)]


def test_a_receipt_reused_with_other_content_answers_409(hub, till, member):
    till.sale("HD-1", "200000", member_code=member["code"])

    reused = till.sale("HD-1", "990000", member_code=member["code"])

    assert reused.status_code == 409
    assert reused.json["error"]["code"] == "receipt_conflict"
    assert entries(hub, member["id"]) == [("earn", 200)]


def test_the_same_receipt_number_at_two_counters_is_two_sales(client, merchant, till, member):
    other = open_counter(client, merchant.headers, location="Quầy 2")

    assert till.sale("HD-1", "100000", member_code=member["code"]).status_code == 201
    assert other.sale("HD-1", "100000", member_code=member["code"]).status_code == 201


def test_a_sale_in_the_past_earns_with_its_own_time_and_expiry(api, hub, till, member):
    api.put("/api/v1/program", json={"expiry": {"policy": "days", "days": 30}})
    now = datetime.now(UTC).replace(microsecond=0)
    recent, stale = now - timedelta(days=10), now - timedelta(days=45)

    till.sale("HD-RECENT", "100000", member_code=member["code"], sold_at=recent.isoformat())
    till.sale("HD-STALE", "300000", member_code=member["code"], sold_at=stale.isoformat())

    with hub.db.session() as session:
        lots = sorted(
            (lot.points, lot.created_at, lot.expires_at)
            for lot in session.scalars(select(PointLot).where(PointLot.member_id == member["id"]))
        )
    assert lots == [
        (100, recent, recent + timedelta(days=30)),
        (300, stale, stale + timedelta(days=30)),
    ]
    card = till.get("/pos/v1/members", params={"q": member["code"]}).json["member"]
    assert card["points"]["available"] == 100  # the stale sale's points have already expired


def test_a_sale_dated_in_the_future_answers_422(till, member):
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()

    response = till.sale("HD-F", "100000", member_code=member["code"], sold_at=tomorrow)

    assert response.status_code == 422
    assert response.json["error"]["code"] == "sale_in_future"


def test_a_sale_naming_an_unknown_member_answers_422_and_records_nothing(hub, till):
    response = till.sale("HD-X", "100000", member_code="ZZZZ9999")

    assert response.status_code == 422
    assert response.json["error"]["code"] == "member_not_found"
    assert till.get("/pos/v1/sales/HD-X").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"total": "1"}, "receipt"),
        ({"receipt": "A", "total": "1"}, "sold_at"),
        ({"receipt": "A", "total": "-5", "sold_at": "2026-11-01T10:00:00+07:00"}, "total"),
        ({"receipt": "A", "total": "NaN", "sold_at": "2026-11-01T10:00:00+07:00"}, "total"),
        ({"receipt": "A", "total": "1", "sold_at": "2026-11-01T10:00:00"}, "sold_at"),
        ({"receipt": "A" * 65, "total": "1", "sold_at": "2026-11-01T10:00:00Z"}, "receipt"),
        ({"receipt": "A", "total": "1", "sold_at": "2026-11-01T10:00:00Z", "tip": 1}, "tip"),
    ],
)
def test_a_bad_sale_answers_422_naming_the_field(till, body, field):
    response = till.post("/pos/v1/sales", json=body)

    assert response.status_code == 422, response.json
    assert field in response.json["error"]["details"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"sold_at": "0001-01-01T00:00:00+14:00"}, 422),
        ({"receipt": "HD\u0000"}, 422),
        ({"lines": [{"quantity": 1, "price": "1", "title": "nul\u0000"}]}, 422),
        ({"member_code": "\u0000"}, 422),
        ({"total": "1e400"}, 422),
        ({"redeem_points": 10**12}, 422),
    ],
)
def test_nasty_sales_answer_4xx_never_5xx(till, member, change, status):
    body = {"receipt": "HD-N", "sold_at": "2026-11-01T10:00:00+07:00", "total": "1", **change}

    assert till.post("/pos/v1/sales", json=body).status_code == status


@pytest.mark.parametrize(
    "path", ["/pos/v1/sales/HD%00", "/pos/v1/members/A%00B", "/pos/v1/members/" + "Z" * 300]
)
def test_nasty_paths_answer_404_never_5xx(till, path):
    assert till.get(path).status_code == 404
    if path.startswith("/pos/v1/sales/"):
        assert till.post(path + "/void", json={}).status_code == 404
        refund = {"refund_id": "R", "amount": "1"}
        assert till.post(path + "/refunds", json=refund).status_code == 404


def test_a_body_that_is_not_json_answers_422(till):
    response = till.post("/pos/v1/sales", data="receipt=1", content_type="text/plain")

    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"


def test_a_recorded_sale_can_be_read_back(till, member):
    till.sale("HD/2026/7", "80000", member_code=member["code"])

    sale = till.get("/pos/v1/sales/HD/2026/7")

    assert sale.status_code == 200
    assert (sale.json["receipt"], sale.json["points"]["earned"]) == ("HD/2026/7", 80)


# -- redeeming points on a sale ------------------------------------------------------------


def test_points_pay_part_of_a_sale_when_the_connection_allows_it(hub, cashier_till, member):
    give(hub, member["id"], 1000)

    response = cashier_till.sale("HD-R1", "150000", member_code=member["code"], redeem_points=500)

    assert response.status_code == 201, response.json
    points = response.json["points"]
    assert (points["redeemed"], points["discount"], points["earned"]) == (500, "50000", 150)
    with hub.db.session() as session:
        order = session.scalars(select(Order)).one()
        redeem = session.scalars(select(PointEntry).where(PointEntry.kind == "redeem")).one()
    assert (order.total_discounts, order.subtotal) == (Decimal(50000), Decimal(200000))
    assert redeem.key == f"pos:{cashier_till.connection_id}:HD-R1:redeem"
    assert entries(hub, member["id"]) == [("earn", 150), ("earn", 1000), ("redeem", -500)]


def test_a_redemption_without_enough_points_records_nothing(hub, cashier_till, member):
    give(hub, member["id"], 100)

    response = cashier_till.sale("HD-R2", "150000", member_code=member["code"], redeem_points=200)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "insufficient_points"
    assert cashier_till.get("/pos/v1/sales/HD-R2").status_code == 404
    assert cashier_till.sale("HD-R2", "170000", member_code=member["code"]).status_code == 201


@pytest.mark.parametrize(
    ("points", "code"), [(5, "below_min_points"), (800, "redemption_over_limit")]
)
def test_a_redemption_outside_the_terms_answers_422(hub, cashier_till, member, points, code):
    give(hub, member["id"], 1000)

    response = cashier_till.sale("HD-R3", "50000", member_code=member["code"], redeem_points=points)

    assert response.status_code == 422
    assert response.json["error"]["code"] == code


def test_points_cannot_pay_where_the_connection_does_not_allow_it(hub, till, member):
    give(hub, member["id"], 1000)

    response = till.sale("HD-R4", "100000", member_code=member["code"], redeem_points=100)

    assert response.status_code == 422
    assert response.json["error"]["code"] == "redemption_disabled"


def test_the_lookup_tells_the_counter_how_many_points_it_may_redeem(hub, cashier_till, member):
    give(hub, member["id"], 730)

    card = cashier_till.get(f"/pos/v1/members/{member['code']}").json["member"]

    assert card["redemption"] == {
        "enabled": True,
        "point_value": "100",
        "max_percent": "50",
        "min_points": 10,
        "max_points": 730,
    }


def test_redemption_terms_are_validated(api, till):
    path = f"/api/v1/pos/connections/{till.connection_id}/redemption"

    bad = api.put(path, json={"enabled": True, "point_value": "0", "max_percent": "120"})

    assert bad.status_code == 422
    assert {"point_value", "max_percent"} <= set(bad.json["error"]["details"])
    assert api.get(path).json == {
        "enabled": False,
        "point_value": "1",
        "max_percent": "100",
        "min_points": 1,
    }


# -- voids and refunds ---------------------------------------------------------------------


def test_a_void_reverses_the_earned_points_and_returns_the_redeemed_ones(hub, cashier_till, member):
    give(hub, member["id"], 1000)
    cashier_till.sale("HD-V1", "150000", member_code=member["code"], redeem_points=500)

    voided = cashier_till.post("/pos/v1/sales/HD-V1/void", json={"reason": "khách đổi ý"})
    again = cashier_till.post("/pos/v1/sales/HD-V1/void", json={})

    assert voided.status_code == 200, voided.json
    assert (voided.json["voided"], voided.json["points"]["returned"]) == (True, 500)
    assert (voided.json["points"]["earned"], voided.json["points"]["reversed"]) == (150, 150)
    assert (again.json["created"], again.json["points"]["returned"]) == (False, 0)
    assert voided.json["points"]["balance"] == {"available": 1000, "pending": 0}
    kinds = entries(hub, member["id"])
    assert sum(points for _, points in kinds) == 1000
    assert ("reverse", -150) in kinds and ("reverse", 500) in kinds


def test_voiding_an_unknown_receipt_answers_404(till):
    response = till.post("/pos/v1/sales/NOPE/void", json={})

    assert response.status_code == 404
    assert response.json["error"]["code"] == "receipt_not_found"


def test_a_refund_reverses_its_share_of_the_points_once(hub, till, member):
    till.sale("HD-F1", "400000", member_code=member["code"])

    first = till.post("/pos/v1/sales/HD-F1/refunds", json={"refund_id": "TH-1", "amount": "100000"})
    again = till.post("/pos/v1/sales/HD-F1/refunds", json={"refund_id": "TH-1", "amount": "100000"})

    assert (first.status_code, first.json["points_reversed"]) == (201, 100)
    assert (again.status_code, again.json["created"]) == (200, False)
    assert entries(hub, member["id"]) == [("earn", 400), ("reverse", -100)]


def test_a_refund_sent_before_its_sale_is_applied_when_the_sale_arrives(hub, till, member):
    early = till.post("/pos/v1/sales/HD-F2/refunds", json={"refund_id": "TH-2", "amount": "50000"})

    till.sale("HD-F2", "200000", member_code=member["code"])

    assert (early.status_code, early.json["points_reversed"]) == (201, 0)
    assert entries(hub, member["id"]) == [("earn", 200), ("reverse", -50)]


# -- vouchers ------------------------------------------------------------------------------


def test_a_voucher_is_checked_then_burned_on_a_receipt(api, hub, till, member):
    code = voucher_for(api, hub, member, min_order="100000")

    low = till.post("/pos/v1/vouchers/validate", json={"code": code, "amount": "90000"})
    good = till.post("/pos/v1/vouchers/validate", json={"code": code.lower(), "amount": "300000"})
    burned = till.post(
        "/pos/v1/vouchers/burn", json={"code": code, "receipt": "HD-9", "amount": "300000"}
    )
    after = till.post("/pos/v1/vouchers/validate", json={"code": code})

    assert (low.json["valid"], low.json["reason"]) == (False, "below_minimum")
    assert (good.json["valid"], good.json["discount"]) == (True, "50000")
    assert burned.status_code == 200, burned.json
    assert (burned.json["replayed"], burned.json["voucher"]["status"]) == (False, "used")
    assert (after.json["valid"], after.json["reason"]) == (False, "used")


def test_burning_again_for_the_same_receipt_replays_and_for_another_answers_409(
    api, hub, till, member
):
    code = voucher_for(api, hub, member)
    till.post("/pos/v1/vouchers/burn", json={"code": code, "receipt": "HD-9"})

    replay = till.post("/pos/v1/vouchers/burn", json={"code": code, "receipt": "HD-9"})
    other = till.post("/pos/v1/vouchers/burn", json={"code": code, "receipt": "HD-10"})

    assert (replay.status_code, replay.json["replayed"]) == (200, True)
    assert other.status_code == 409
    assert other.json["error"]["code"] == "voucher_already_used"


def test_an_unknown_voucher_is_invalid_and_cannot_be_burned(till):
    check = till.post("/pos/v1/vouchers/validate", json={"code": "NOPE-NOPE"})
    burn = till.post("/pos/v1/vouchers/burn", json={"code": "NOPE-NOPE", "receipt": "HD-1"})

    assert (check.status_code, check.json["valid"], check.json["reason"]) == (
        200,
        False,
        "not_found",
    )
    assert burn.status_code == 404


# -- rewards -------------------------------------------------------------------------------


def test_the_counter_lists_the_active_rewards_cheapest_first(api, till):
    add_reward(
        api, name="Ly sứ", kind="free_product", product_sku="CUP", value=None, points_cost=900
    )
    add_reward(api, name="Giảm 20.000đ", value="20000", points_cost=200)
    retired = add_reward(api, name="Cũ", points_cost=100)
    api.patch(f"/api/v1/rewards/{retired['id']}", json={"active": False})

    catalog = till.get("/pos/v1/rewards").json["data"]

    assert [(r["name"], r["points_cost"]) for r in catalog] == [
        ("Giảm 20.000đ", 200),
        ("Ly sứ", 900),
    ]


def test_a_reward_is_redeemed_once_per_request_id(api, hub, till, member):
    give(hub, member["id"], 1200)
    reward = add_reward(api)
    body = {"reward_id": reward["id"], "request_id": "tablet-1:42"}

    first = till.post(f"/pos/v1/members/{member['code']}/redemptions", json=body)
    again = till.post(f"/pos/v1/members/{member['code']}/redemptions", json=body)

    assert first.status_code == 201, first.json
    assert (again.status_code, again.json["replayed"]) == (200, True)
    assert again.json["voucher"]["code"] == first.json["voucher"]["code"]
    assert (first.json["points_spent"], first.json["balance"]) == (500, 700)
    assert entries(hub, member["id"]) == [("earn", 1200), ("redeem", -500)]


def test_a_request_id_reused_for_another_reward_answers_409(api, hub, till, member):
    give(hub, member["id"], 1200)
    one, two = add_reward(api), add_reward(api, name="Khác", points_cost=100)
    path = f"/pos/v1/members/{member['code']}/redemptions"
    till.post(path, json={"reward_id": one["id"], "request_id": "r-1"})

    reused = till.post(path, json={"reward_id": two["id"], "request_id": "r-1"})

    assert reused.status_code == 409
    assert reused.json["error"]["code"] == "request_id_reused"


def test_redeeming_without_enough_points_answers_409(api, hub, till, member):
    reward = add_reward(api)

    response = till.post(
        f"/pos/v1/members/{member['code']}/redemptions",
        json={"reward_id": reward["id"], "request_id": "r-2"},
    )

    assert response.status_code == 409
    assert response.json["error"]["code"] == "insufficient_points"


def test_a_sales_queries_do_not_grow_with_its_lines(hub, till, member):
    def lines(count):
        return [{"sku": f"SP{n}", "quantity": 1, "price": "10000"} for n in range(count)]

    counts = []
    for receipt, count in (("HD-1", 1), ("HD-20", 20)):
        with QueryCounter(hub) as counted:
            response = till.sale(
                receipt, str(10000 * count), member_code=member["code"], lines=lines(count)
            )
        assert response.status_code == 201, response.json
        # The core stores each order line as a row of its own (one INSERT per line on
        # SQLite); everything else a sale does is the same for one line or twenty.
        counts.append(
            len([s for s in counted.statements if not s.startswith("INSERT INTO order_lines")])
        )

    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    ("typed", "phone", "code"),
    [
        ("0912 345 678", "+84912345678", "0912345678"),  # tried as both
        ("7k3m-9q2a", None, "7K3M9Q2A"),
        ("HUB:7K3M9Q2A\n", None, "7K3M9Q2A"),
        ("7K3M9Q2O", None, "7K3M9Q20"),  # an O typed for a zero
        ("1L1I0000", None, "11110000"),
        ("12345678", None, "12345678"),  # eight digits: a code, not a Vietnamese phone
        ("Nguyễn", None, None),
    ],
)
def test_what_a_counter_types_is_read_as_a_phone_or_a_code(typed, phone, code):
    assert read_lookup(typed, "VN") == Lookup(phone=phone, code=code)


def test_an_operator_issues_and_revokes_keys_from_the_command_line(api, client, runner):
    connection = api.post("/api/v1/connections", json={"connector": "pos", "name": "Quầy 3"}).json

    issued = runner.invoke(args=["pos", "issue-key", str(connection["id"]), "--name", "tablet"])

    assert issued.exit_code == 0, issued.output
    key = issued.output.strip()
    assert client.get("/pos/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    key_id = api.get(f"/api/v1/pos/connections/{connection['id']}/keys").json[0]["id"]
    revoked = runner.invoke(args=["pos", "revoke-key", str(connection["id"]), str(key_id)])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/pos/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert runner.invoke(args=["pos", "issue-key", "999"]).exit_code != 0


def test_a_sale_earns_for_the_member_the_counter_found_even_without_a_phone(api, hub, till):
    member = api.post("/api/v1/members", json={"email": "binh@example.vn", "name": "Bình"}).json

    response = till.sale("HD-E1", "90000", member_code=member["code"])

    assert response.json["member"]["id"] == member["id"]
    assert entries(hub, member["id"]) == [("earn", 90)]
    with hub.db.session() as session:
        assert session.scalars(select(MemberIdentity)).all() == []  # no stray identity
        assert len(session.scalars(select(Member)).all()) == 1
