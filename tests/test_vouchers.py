"""Vouchers at the till: look up, validate, use once, cancel, expire."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import update

from hub.db import utcnow
from hub.models import Member
from hub.models import PointLot
from hub.models import Voucher
from hub.points import ledger
from hub.rewards import vouchers
from hub.rewards.vouchers import ALPHABET
from hub.rewards.vouchers import expire_due


def give(hub, member_id, points, **lot):
    with hub.db.transaction() as session:
        member = session.get(Member, member_id)
        ledger.credit(session, member, points, kind="earn", key=f"test:{uuid.uuid4()}", **lot)


def add_reward(api, **fields):
    body = {"name": "Giảm 50.000đ", "kind": "amount_off", "value": "50000", "points_cost": 500}
    response = api.post("/api/v1/rewards", json={**body, **fields})
    assert response.status_code == 201, response.json
    return response.json


def redeem(api, hub, member_id, **reward_fields):
    give(hub, member_id, 500)
    reward = add_reward(api, **reward_fields)
    response = api.post(
        f"/api/v1/members/{member_id}/redemptions", json={"reward_id": reward["id"]}
    )
    assert response.status_code == 201, response.json
    return response.json["voucher"]


def points(api, member_id):
    return api.get(f"/api/v1/members/{member_id}").json["points"]["available"]


def expire_voucher(hub, voucher_id):
    with hub.db.transaction() as session:
        session.execute(
            update(Voucher)
            .where(Voucher.id == voucher_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )


def send_order(api, external_id, total):
    now = utcnow().isoformat()
    response = api.post(
        "/api/v1/orders",
        json={
            "source": "pos",
            "external_id": external_id,
            "subtotal": str(total),
            "total": str(total),
            "financial_status": "paid",
            "placed_at": now,
            "paid_at": now,
        },
    )
    assert response.status_code == 201, response.json
    return response.json


# -- codes ----------------------------------------------------------------------


def test_codes_are_twelve_characters_nobody_can_misread(api, hub, member):
    codes = {redeem(api, hub, member["id"])["code"] for _ in range(5)}

    assert len(codes) == 5
    assert all(re.fullmatch(f"[{ALPHABET}]{{12}}", code) for code in codes)
    assert not set("01ILOU") & set(ALPHABET)


def test_a_code_the_merchant_already_has_is_drawn_again(api, hub, member, monkeypatch):
    taken = redeem(api, hub, member["id"])["code"]
    draws = iter([taken, taken, "Z" * 12])
    monkeypatch.setattr(vouchers, "new_code", lambda: next(draws))

    again = redeem(api, hub, member["id"])

    assert again["code"] == "Z" * 12
    held = api.get(f"/api/v1/members/{member['id']}/vouchers").json["data"]
    assert sorted(v["code"] for v in held) == sorted([taken, "Z" * 12])
    assert points(api, member["id"]) == 0


def test_codes_that_keep_being_taken_refuse_the_redemption_and_write_nothing(
    api, hub, member, monkeypatch
):
    taken = redeem(api, hub, member["id"])["code"]
    monkeypatch.setattr(vouchers, "new_code", lambda: taken)
    give(hub, member["id"], 500)
    reward = add_reward(api, stock=2)

    response = api.post(
        f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": reward["id"]}
    )

    assert response.status_code == 409
    assert response.json["error"]["code"] == "voucher_not_written"
    assert api.get(f"/api/v1/rewards/{reward['id']}").json["stock"] == 2
    assert points(api, member["id"]) == 500
    assert len(api.get(f"/api/v1/members/{member['id']}/vouchers").json["data"]) == 1


def test_a_code_is_found_whatever_its_case_spaces_or_dashes(api, hub, member):
    code = redeem(api, hub, member["id"])["code"]
    typed = f"{code[:4].lower()}-{code[4:8]} {code[8:]}"

    assert api.get(f"/api/v1/vouchers/{typed}").json["code"] == code
    assert api.post("/api/v1/vouchers/validate", json={"code": typed}).json["valid"] is True


def test_another_merchants_voucher_is_not_found(api, other_api, hub, member):
    code = redeem(api, hub, member["id"])["code"]

    assert other_api.get(f"/api/v1/vouchers/{code}").status_code == 404
    check = other_api.post("/api/v1/vouchers/validate", json={"code": code}).json
    assert (check["valid"], check["reason"], check["voucher"]) == (False, "not_found", None)
    used = other_api.post("/api/v1/vouchers/use", json={"code": code, "reference": "X"})
    assert used.status_code == 404


# -- validating -----------------------------------------------------------------


@pytest.mark.parametrize(
    "reward, total, discount",
    [
        ({"kind": "amount_off", "value": "50000"}, "300000", "50000"),
        ({"kind": "amount_off", "value": "50000"}, "30000", "30000"),
        ({"kind": "percent_off", "value": "10"}, "333333", "33333"),
        ({"kind": "percent_off", "value": "10", "max_discount": "20000"}, "333333", "20000"),
        ({"kind": "store_credit", "value": "20000"}, "300000", "20000"),
        ({"kind": "free_shipping", "max_discount": "30000"}, "300000", None),
        ({"kind": "free_product", "product_sku": "TUI-01"}, "300000", None),
    ],
)
def test_validating_tells_the_discount_on_an_order(api, hub, member, reward, total, discount):
    code = redeem(api, hub, member["id"], **reward)["code"]

    check = api.post("/api/v1/vouchers/validate", json={"code": code, "order_total": total}).json

    assert check["valid"] is True and check["reason"] is None
    assert check["discount"] == discount


def test_an_order_below_the_minimum_is_not_valid(api, hub, member):
    code = redeem(api, hub, member["id"], min_order="200000")["code"]

    check = api.post("/api/v1/vouchers/validate", json={"code": code, "order_total": "150000"})

    assert (check.json["valid"], check.json["reason"]) == (False, "below_minimum")
    used = api.post(
        "/api/v1/vouchers/use",
        json={"code": code, "reference": "POS-1", "order_total": "150000"},
    )
    assert used.status_code == 422
    assert used.json["error"]["code"] == "order_below_minimum"


# -- using ----------------------------------------------------------------------


def test_using_a_voucher_on_an_order_records_the_order_and_the_discount(
    api, hub, member, recorded_events
):
    code = redeem(api, hub, member["id"])["code"]
    order = send_order(api, "A-1", 300_000)

    response = api.post("/api/v1/vouchers/use", json={"code": code, "order_id": order["id"]})

    assert response.status_code == 200, response.json
    voucher = response.json
    assert voucher["status"] == "used"
    assert (voucher["used_order_id"], voucher["used_reference"]) == (
        order["id"],
        f"order:{order['id']}",
    )
    assert (voucher["used_order_total"], voucher["used_discount"]) == ("300000", "50000")
    used = [e.data for e in recorded_events.events if e.type == "voucher.used"]
    assert used[-1]["code"] == code and used[-1]["discount"] == "50000"


def test_the_same_use_twice_answers_the_same_and_another_use_conflicts(api, hub, member):
    code = redeem(api, hub, member["id"])["code"]
    use = {"code": code, "reference": "POS-7731"}

    first = api.post("/api/v1/vouchers/use", json=use)
    again = api.post("/api/v1/vouchers/use", json=use)
    other = api.post("/api/v1/vouchers/use", json={"code": code, "reference": "POS-7732"})

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.get_data() == again.get_data()
    assert other.status_code == 409
    assert other.json["error"]["code"] == "voucher_already_used"


def test_a_use_must_name_the_order(api, hub, member):
    code = redeem(api, hub, member["id"])["code"]

    response = api.post("/api/v1/vouchers/use", json={"code": code})

    assert response.status_code == 422
    assert "order_id" in response.json["error"]["details"]


def test_a_use_on_another_merchants_order_is_not_found(api, other_api, hub, member):
    code = redeem(api, hub, member["id"])["code"]
    foreign = send_order(other_api, "B-1", 100_000)

    response = api.post("/api/v1/vouchers/use", json={"code": code, "order_id": foreign["id"]})

    assert response.status_code == 404


def test_an_expired_voucher_cannot_be_used_even_before_the_job_runs(api, hub, member):
    voucher = redeem(api, hub, member["id"], validity_days=7)
    expire_voucher(hub, voucher["id"])

    check = api.post("/api/v1/vouchers/validate", json={"code": voucher["code"]}).json
    used = api.post("/api/v1/vouchers/use", json={"code": voucher["code"], "reference": "P"})

    assert (check["valid"], check["reason"]) == (False, "expired")
    assert api.get(f"/api/v1/vouchers/{voucher['code']}").json["status"] == "expired"
    assert (used.status_code, used.json["error"]["code"]) == (409, "voucher_expired")


# -- cancelling -----------------------------------------------------------------


def test_cancelling_an_unused_voucher_gives_the_points_and_the_stock_back(
    api, hub, member, recorded_events
):
    voucher = redeem(api, hub, member["id"], stock=3)
    assert points(api, member["id"]) == 0

    response = api.post(f"/api/v1/vouchers/{voucher['code']}/cancel", json={"note": "đổi ý"})

    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled" and response.json["points_returned"] == 500
    assert points(api, member["id"]) == 500
    assert api.get(f"/api/v1/rewards/{voucher['reward_id']}").json["stock"] == 3
    assert recorded_events.types()[-1] == "voucher.cancelled"
    again = api.post(f"/api/v1/vouchers/{voucher['code']}/cancel", json={})
    assert again.status_code == 200 and points(api, member["id"]) == 500


def test_points_given_back_keep_their_expiry(api, hub, member):
    expires = utcnow() + timedelta(days=20)
    give(hub, member["id"], 300, expires_at=expires)
    voucher = redeem(api, hub, member["id"])  # 500 more, never expiring; 300 spent first

    api.post(f"/api/v1/vouchers/{voucher['code']}/cancel", json={})

    with hub.db.session() as session:
        lots = session.scalars(select(PointLot).where(PointLot.member_id == member["id"])).all()
        expiring = [lot for lot in lots if lot.expires_at is not None]
    assert [lot.remaining for lot in expiring] == [300]


def test_a_used_voucher_cannot_be_cancelled(api, hub, member):
    code = redeem(api, hub, member["id"])["code"]
    api.post("/api/v1/vouchers/use", json={"code": code, "reference": "POS-1"})

    response = api.post(f"/api/v1/vouchers/{code}/cancel", json={})

    assert response.status_code == 409
    assert points(api, member["id"]) == 0


# -- expiring -------------------------------------------------------------------


def test_the_daily_job_expires_vouchers_past_their_date_once(
    app, api, hub, member, recorded_events
):
    voucher = redeem(api, hub, member["id"], validity_days=7, stock=2)
    keeper = redeem(api, hub, member["id"])  # never expires

    with app.app_context():
        later = (utcnow() + timedelta(days=8)).isoformat()
        assert expire_due(later) == 1
        assert expire_due(later) == 0

    assert api.get(f"/api/v1/vouchers/{voucher['code']}").json["status"] == "expired"
    assert api.get(f"/api/v1/vouchers/{keeper['code']}").json["status"] == "issued"
    assert recorded_events.types().count("voucher.expired") == 1
    assert api.get(f"/api/v1/rewards/{voucher['reward_id']}").json["stock"] == 2
    assert points(api, member["id"]) == 0  # an expired voucher's points are not returned


# -- listing --------------------------------------------------------------------


def test_a_members_vouchers_are_listed_and_filtered_by_status(api, hub, member):
    used = redeem(api, hub, member["id"])
    open_one = redeem(api, hub, member["id"])
    api.post("/api/v1/vouchers/use", json={"code": used["code"], "reference": "POS-1"})

    everything = api.get(f"/api/v1/members/{member['id']}/vouchers").json["data"]
    issued = api.get(f"/api/v1/members/{member['id']}/vouchers?status=issued").json["data"]

    assert [v["code"] for v in everything] == [used["code"], open_one["code"]]
    assert [v["code"] for v in issued] == [open_one["code"]]
    bad = api.get(f"/api/v1/members/{member['id']}/vouchers?status=lost")
    assert bad.status_code == 422
