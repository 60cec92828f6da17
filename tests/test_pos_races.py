"""Counters racing over real HTTP with real threads: one voucher, one balance, one receipt.

The hub runs under a real threaded WSGI server on 127.0.0.1, each counter
calls it with its own key from its own thread, and a barrier releases them
together. Run on SQLite by default and on PostgreSQL with
HUB_TEST_DATABASE_URL: exactly one wins every race on both.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from browser_support import ServerThread
from sqlalchemy import select

from connectors.pos.testing import open_counter
from hub.models import Member
from hub.models import Order
from hub.models.rewards import Voucher
from hub.points import ledger

ROUNDS = 5


@pytest.fixture
def live(app):
    server = ServerThread(app)
    yield server
    server.stop()


@pytest.fixture
def counters(client, merchant, live):
    """Three counters of one shop, each a POS connection with its own key, over real HTTP."""
    terms = {"enabled": True, "point_value": "100", "max_percent": "100"}
    return [
        open_counter(client, merchant.headers, location=f"Quầy {n}", redemption=terms).over_http(
            live.url
        )
        for n in (1, 2, 3)
    ]


def race(calls):
    """Run each call in its own thread, all released at once; return their answers in order."""
    start = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(index, call):
        start.wait()
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def give(hub, member_id, points):
    with hub.db.transaction() as session:
        member = session.get(Member, member_id)
        ledger.credit(session, member, points, kind="earn", key=f"test:{uuid.uuid4()}")


def issue_vouchers(api, hub, member, count):
    give(hub, member["id"], 100 * count)
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 20.000đ", "kind": "amount_off", "value": "20000", "points_cost": 100},
    ).json
    codes = []
    for _ in range(count):
        response = api.post(
            f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": reward["id"]}
        )
        assert response.status_code == 201, response.json
        codes.append(response.json["voucher"]["code"])
    return codes


def test_two_counters_burning_one_voucher_at_once_exactly_one_wins(api, hub, counters, member):
    codes = issue_vouchers(api, hub, member, ROUNDS)

    for code in codes:
        answers = race(
            [
                lambda till=till, receipt=receipt, c=code: till.post(
                    "/pos/v1/vouchers/burn",
                    json={"code": c, "receipt": receipt, "amount": "90000"},
                )
                for till, receipt in ((counters[0], "HD-A"), (counters[1], "HD-B"))
            ]
        )

        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200, 409], [a.json for a in answers]
        loser = next(a for a in answers if a.status_code == 409)
        assert loser.json["error"]["code"] == "voucher_already_used"
        winner = next(a for a in answers if a.status_code == 200)
        with hub.db.session() as session:
            voucher = session.scalars(select(Voucher).where(Voucher.code == code)).one()
        assert voucher.status == "used"
        assert voucher.used_reference.endswith(winner.json["receipt"])


def test_three_counters_burning_one_voucher_at_once_exactly_one_wins(api, hub, counters, member):
    (code,) = issue_vouchers(api, hub, member, 1)

    answers = race(
        [
            lambda till=till, n=n: till.post(
                "/pos/v1/vouchers/burn", json={"code": code, "receipt": f"HD-{n}"}
            )
            for n, till in enumerate(counters)
        ]
    )

    assert sorted(a.status_code for a in answers) == [200, 409, 409]


def test_two_counters_spending_the_same_points_at_once_exactly_one_wins(hub, counters, member):
    for round_ in range(ROUNDS):
        give(hub, member["id"], 500)
        answers = race(
            [
                lambda till=till, receipt=f"HD-{round_}-{n}": till.sale(
                    receipt, "10000", member_code=member["code"], redeem_points=500
                )
                for n, till in enumerate(counters[:2])
            ]
        )

        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201, 409], [a.json for a in answers]
        with hub.db.session() as session:
            row = session.get(Member, member["id"])
            assert row.points_balance == ledger.balance_from_entries(session, member["id"])
            assert ledger.balance(session, member["id"]).available >= 0


def test_the_same_receipt_sent_from_two_threads_at_once_is_one_sale(hub, counters, member):
    till = counters[0]

    for round_ in range(ROUNDS):
        answers = race(
            [
                lambda r=round_: till.sale(f"HD-{r}", "150000", member_code=member["code"])
                for _ in range(2)
            ]
        )

        assert sorted(a.status_code for a in answers) == [200, 201], [a.json for a in answers]
    with hub.db.session() as session:
        assert len(session.scalars(select(Order)).all()) == ROUNDS
        assert session.get(Member, member["id"]).points_balance == 150 * ROUNDS
