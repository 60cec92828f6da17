"""No double spend: real concurrent requests, each thread with its own client.

The threads share the app (and so its engine's connection pool) and start
together at a barrier; nothing is mocked. The same tests run on SQLite
(BEGIN IMMEDIATE, busy timeout) and on PostgreSQL (row locks).
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import func
from sqlalchemy import select

from hub.models import Member
from hub.models import PointEntry
from hub.models import Reward
from hub.models import Voucher
from hub.points import ledger
from hub.testing import ApiClient


def at_once(app, merchant, calls):
    """Run each ``call(client)`` in its own thread, all released together; return responses."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        client = ApiClient(app.test_client(), merchant)
        barrier.wait()
        try:
            results[index] = call(client)
        except Exception as exc:  # surfaced by the assertions below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request never finished"
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == [], errors
    return results


def outcome(response) -> tuple[int, str | None]:
    body = response.json or {}
    return response.status_code, (body.get("error") or {}).get("code")


def give(hub, member_id, points):
    with hub.db.transaction() as session:
        member = session.get(Member, member_id)
        ledger.credit(session, member, points, kind="earn", key=f"test:{uuid.uuid4()}")


def new_member(api, n):
    response = api.post("/api/v1/members", json={"phone": f"09{n:08d}", "name": f"Khách {n}"})
    assert response.status_code == 201, response.json
    return response.json["id"]


def add_reward(api, **fields):
    body = {"name": "Giảm 50.000đ", "kind": "amount_off", "value": "50000", "points_cost": 500}
    response = api.post("/api/v1/rewards", json={**body, **fields})
    assert response.status_code == 201, response.json
    return response.json["id"]


def redemption(member_id, reward_id):
    return lambda client: client.post(
        f"/api/v1/members/{member_id}/redemptions", json={"reward_id": reward_id}
    )


def ledger_is_consistent(hub, member_id) -> bool:
    with hub.db.session() as session:
        balance = session.get(Member, member_id).points_balance
        return (
            balance == ledger.balance_from_entries(session, member_id)
            and ledger.lots_remaining(session, member_id) == max(balance, 0)
            and balance >= 0
        )


def test_fifty_concurrent_redemptions_of_a_balance_good_for_one_spend_it_once(
    app, api, hub, merchant, member
):
    give(hub, member["id"], 500)
    reward = add_reward(api)

    responses = at_once(app, merchant, [redemption(member["id"], reward)] * 50)

    outcomes = Counter(outcome(r) for r in responses)
    assert outcomes[(201, None)] == 1, outcomes
    assert outcomes[(409, "insufficient_points")] == 49, outcomes
    assert all(r.status_code < 500 for r in responses)
    with hub.db.session() as session:
        vouchers = session.scalar(select(func.count(Voucher.id)))
        redeems = session.scalar(
            select(func.count(PointEntry.id)).where(PointEntry.kind == "redeem")
        )
    assert (vouchers, redeems) == (1, 1)
    assert ledger_is_consistent(hub, member["id"])
    assert api.get(f"/api/v1/members/{member['id']}").json["points"]["available"] == 0


def test_twenty_members_racing_for_a_stock_of_five_get_exactly_five_vouchers(
    app, api, hub, merchant
):
    members = [new_member(api, n) for n in range(20)]
    for member_id in members:
        give(hub, member_id, 2000)
    reward = add_reward(api, stock=5)

    responses = at_once(app, merchant, [redemption(m, reward) for m in members])

    outcomes = Counter(outcome(r) for r in responses)
    assert outcomes == {(201, None): 5, (409, "out_of_stock"): 15}, outcomes
    with hub.db.session() as session:
        assert session.get(Reward, reward).stock == 0
        assert session.scalar(select(func.count(Voucher.id))) == 5
    winners = {r.json["voucher"]["member_id"] for r in responses if r.status_code == 201}
    for member_id in members:
        expected = 1500 if member_id in winners else 2000
        balance = api.get(f"/api/v1/members/{member_id}").json["points"]["available"]
        assert balance == expected
        assert ledger_is_consistent(hub, member_id)


def test_concurrent_redemptions_never_pass_the_per_member_limit(app, api, hub, merchant, member):
    give(hub, member["id"], 10_000)
    reward = add_reward(api, per_member_limit=2)

    responses = at_once(app, merchant, [redemption(member["id"], reward)] * 10)

    outcomes = Counter(outcome(r) for r in responses)
    assert outcomes == {(201, None): 2, (409, "redemption_limit_reached"): 8}, outcomes
    assert api.get(f"/api/v1/members/{member['id']}").json["points"]["available"] == 9000
    assert ledger_is_consistent(hub, member["id"])


def issued_code(api, hub, member_id, **reward_fields):
    give(hub, member_id, 500)
    reward = add_reward(api, **reward_fields)
    response = api.post(f"/api/v1/members/{member_id}/redemptions", json={"reward_id": reward})
    assert response.status_code == 201, response.json
    return response.json["voucher"]["code"]


def test_two_tills_burning_one_voucher_at_once_only_one_wins(app, api, hub, merchant, member):
    code = issued_code(api, hub, member["id"])

    responses = at_once(
        app,
        merchant,
        [
            lambda c: c.post("/api/v1/vouchers/use", json={"code": code, "reference": "TILL-1"}),
            lambda c: c.post("/api/v1/vouchers/use", json={"code": code, "reference": "TILL-2"}),
        ],
    )

    outcomes = Counter(outcome(r) for r in responses)
    assert outcomes == {(200, None): 1, (409, "voucher_already_used"): 1}, outcomes
    winner = next(r for r in responses if r.status_code == 200).json["used_reference"]
    assert api.get(f"/api/v1/vouchers/{code}").json["used_reference"] == winner


def test_the_same_use_sent_many_times_at_once_answers_the_same(app, api, hub, merchant, member):
    code = issued_code(api, hub, member["id"])
    use = {"code": code, "reference": "POS-7731", "order_total": "300000"}

    responses = at_once(app, merchant, [lambda c: c.post("/api/v1/vouchers/use", json=use)] * 10)

    assert {r.status_code for r in responses} == {200}
    assert len({r.get_data() for r in responses}) == 1


@pytest.mark.long(4)
def test_a_cancel_racing_a_use_leaves_exactly_one_of_them_done(app, api, hub, merchant, member):
    code = issued_code(api, hub, member["id"])

    use, cancel = at_once(
        app,
        merchant,
        [
            lambda c: c.post("/api/v1/vouchers/use", json={"code": code, "reference": "POS-1"}),
            lambda c: c.post(f"/api/v1/vouchers/{code}/cancel", json={}),
        ],
    )

    assert sorted([use.status_code, cancel.status_code]) == [200, 409]
    balance = api.get(f"/api/v1/members/{member['id']}").json["points"]["available"]
    assert balance == (500 if cancel.status_code == 200 else 0)
    assert ledger_is_consistent(hub, member["id"])
