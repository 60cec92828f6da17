"""Referral settlement reads what changed, not the history.

Given referrals moved along by the order path (pending at the friend's first
paid order, stamped when its order is refunded), a settlement run reads only
due pending referrals and stamped rewarded ones, however many old referrals
there are; a refund reverses a reward exactly once, and a refund of any other
order changes nothing.
"""

import json
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy import insert
from sqlalchemy import text
from test_referrals import PAID
from test_referrals import claim
from test_referrals import member
from test_referrals import pay
from test_referrals import points
from test_referrals import referrals
from test_referrals import refund
from test_referrals import shop  # noqa: F401  (the fixture)

from hub.models import Member
from hub.models import Referral
from hub.referrals.settlement import settle_referrals

HISTORY = 10_000


def rewarded(api, hub, code, phone, external_id):
    """A friend who joined, paid and was rewarded; answer the order id."""
    friend = member(api, phone)
    claim(hub, friend["id"], code)
    order_id = pay(api, phone, external_id)
    assert settle_referrals(hub, now=PAID + timedelta(days=15))["rewarded"] == 1
    return friend, order_id


def test_the_order_path_makes_a_referral_pending_without_a_settlement_run(api, hub, shop):  # noqa: F811
    _store, code = shop
    claim(hub, member(api, "0987000901")["id"], code)
    pay(api, "0987000901", "P-1")
    [pending] = referrals(api)
    assert (pending["status"], pending["due_at"][:10]) == ("pending", "2026-11-16")


def test_a_refund_after_the_reward_reverses_it_exactly_once(api, hub, shop):  # noqa: F811
    store, code = shop
    _friend, order_id = rewarded(api, hub, code, "0987000902", "P-2")
    refund(api, order_id, amount="100000")
    api.post(f"/api/v1/orders/{order_id}/refunds", json={"external_id": "R-2", "amount": "1000"})
    assert settle_referrals(hub, now=PAID + timedelta(days=20))["reversed"] == 1
    assert settle_referrals(hub, now=PAID + timedelta(days=21))["reversed"] == 0
    api.post(f"/api/v1/orders/{order_id}/refunds", json={"external_id": "R-3", "amount": "1000"})
    assert settle_referrals(hub, now=PAID + timedelta(days=22))["reversed"] == 0
    assert points(api, store.member_id) == 0
    assert [(r["status"], r["reason"]) for r in referrals(api)] == [("reversed", "refunded")]
    entries = api.get(f"/api/v1/members/{store.member_id}/ledger").json["data"]
    assert sorted(e["points"] for e in entries) == [-200, 200]


def test_a_refund_of_another_order_changes_nothing(api, hub, shop):  # noqa: F811
    store, code = shop
    _friend, _order_id = rewarded(api, hub, code, "0987000903", "P-3")
    later = pay(api, "0987000903", "P-3b", at=PAID + timedelta(days=16))
    stranger = pay(api, "0987000999", "S-1")
    refund(api, later)
    refund(api, stranger)
    assert settle_referrals(hub, now=PAID + timedelta(days=20)) == {
        "rewarded": 0,
        "rejected": 0,
        "reversed": 0,
    }
    assert points(api, store.member_id) == 200
    assert [r["status"] for r in referrals(api)] == ["rewarded"]


def test_a_cancellation_delivered_later_reverses_the_reward(api, hub, shop):  # noqa: F811
    store, code = shop
    _friend, order_id = rewarded(api, hub, code, "0987000904", "P-4")
    order = api.get(f"/api/v1/orders/{order_id}").json
    answer = api.post(
        "/api/v1/orders",
        json={
            "source": "web",
            "external_id": "P-4",
            "subtotal": order["subtotal"],
            "total": order["total"],
            "financial_status": "voided",
            "placed_at": PAID.isoformat(),
            "paid_at": PAID.isoformat(),
            "cancelled_at": (PAID + timedelta(days=17)).isoformat(),
            "customer": {"phone": "0987000904"},
        },
    )
    assert answer.status_code == 200, answer.json
    assert settle_referrals(hub, now=PAID + timedelta(days=20))["reversed"] == 1
    assert points(api, store.member_id) == 0


def _old_rewarded_referrals(hub, merchant_id, referrer_id, count):
    """``count`` referrals rewarded long ago, written in bulk as history (test set-up only)."""
    with hub.db.transaction() as session:
        friends = session.execute(
            insert(Member).returning(Member.id),
            [
                {"merchant_id": merchant_id, "code": f"H{n:07d}", "name": f"Cũ {n}"}
                for n in range(count)
            ],
        ).scalars()
        long_ago = PAID - timedelta(days=400)
        session.execute(
            insert(Referral),
            [
                {
                    "merchant_id": merchant_id,
                    "referrer_id": referrer_id,
                    "friend_id": friend_id,
                    "code": "OLD",
                    "status": "rewarded",
                    "due_at": long_ago,
                    "rewarded_at": long_ago,
                    "rewards": {},
                    "created_at": long_ago,
                    "updated_at": long_ago,
                }
                for friend_id in friends
            ],
        )


class Statements:
    """The statements a block runs, as the database received them."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *_):
        event.remove(self.engine, "before_cursor_execute", self._note)

    def _note(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append((statement, parameters))

    def on_referrals(self):
        return [(s, p) for s, p in self.seen if "FROM referrals" in s and s.startswith("SELECT")]


def _referral_rows_read(hub, statements) -> int:
    """PostgreSQL: rows each statement's scans of referrals read, by EXPLAIN ANALYZE."""
    read = 0
    with hub.db.engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
            ).scalar()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            nodes = [plan[0]["Plan"]]
            while nodes:
                node = nodes.pop()
                nodes.extend(node.get("Plans", []))
                if node.get("Relation Name") == "referrals":
                    loops = node.get("Actual Loops", 1)
                    read += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * loops
        conn.rollback()
    return read


def _sqlite_plans(hub, statements) -> list[str]:
    """SQLite: how each statement reads referrals, from EXPLAIN QUERY PLAN."""
    lines = []
    with hub.db.engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            lines += [row[-1] for row in plan if " referrals " in f" {row[-1]} "]
    return lines


def test_a_run_with_ten_thousand_old_rewarded_referrals_reads_none_of_them(api, hub, shop):  # noqa: F811
    """Given 10,000 referrals rewarded long ago and one refunded today, a run reverses the
    refunded one and reads none of the others: the same statements as without them, and
    (PostgreSQL) only the rows it settles."""
    store, code = shop
    _friend, order_id = rewarded(api, hub, code, "0987000905", "P-5")
    refund(api, order_id)
    with Statements(hub.db.engine) as bare:
        assert settle_referrals(hub, now=PAID + timedelta(days=20))["reversed"] == 1

    _other, other_order = rewarded(api, hub, code, "0987000906", "P-6")
    _old_rewarded_referrals(hub, api.merchant.id, store.member_id, HISTORY)
    refund(api, other_order)
    if not hub.db.is_sqlite:
        with hub.db.engine.begin() as conn:
            conn.execute(text("ANALYZE referrals"))
    with Statements(hub.db.engine) as loaded:
        assert settle_referrals(hub, now=PAID + timedelta(days=20))["reversed"] == 1

    assert len(loaded.seen) == len(bare.seen)
    reads = loaded.on_referrals()
    assert reads, "the run reads referrals somewhere"
    if hub.db.is_sqlite:
        plans = _sqlite_plans(hub, reads)
        assert not [p for p in plans if p.startswith("SCAN")], plans
        # Each search is bounded on both columns of its index (or is by primary key).
        assert all("AND" in p or "PRIMARY KEY" in p for p in plans), plans
    else:
        assert _referral_rows_read(hub, reads) <= 2
