"""Referrals: a member's link brings a friend; the friend's first paid order rewards both, once.

Given a referrer and the shop's terms, when a friend claims the code, pays and
the refund window passes, then both sides earn; the abuse cases say no.
"""

import threading
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from widget_setup import set_up_storefront

from hub.models import Member
from hub.referrals.claims import claim_referral
from hub.referrals.codes import ensure_code
from hub.referrals.settlement import due_pending
from hub.referrals.settlement import settle_referrals
from hub.widget.tokens import sign_visitor

PAID = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
TERMS = {
    "enabled": True,
    "referrer": {"points": 200},
    "friend": {"points": 100},
    "hold_days": 14,
    "monthly_limit": 2,
}


@pytest.fixture
def shop(api, hub):
    store = set_up_storefront(api, hub, points=0)
    answer = api.patch("/api/v1/referrals/settings", json=TERMS)
    assert answer.status_code == 200, answer.json
    code = ensure_code(hub, api.merchant.id, store.member_id)
    return store, code


def member(api, phone=None, email=None, **fields):
    body = {"name": fields.pop("name", "Bạn"), **fields}
    if phone:
        body["phone"] = phone
    if email:
        body["email"] = email
    answer = api.post("/api/v1/members", json=body)
    assert answer.status_code == 201, answer.json
    return answer.json


def claim(hub, friend_id, code, at=PAID - timedelta(days=1)):
    with hub.db.transaction() as session:
        found = claim_referral(
            session, session.get(Member, friend_id), code, connection_id=None, now=at
        )
        return found.status, found.reason


def pay(api, phone, external_id, total="500000", at=PAID):
    answer = api.post(
        "/api/v1/orders",
        json={
            "source": "web",
            "external_id": external_id,
            "subtotal": total,
            "total": total,
            "financial_status": "paid",
            "placed_at": at.isoformat(),
            "paid_at": at.isoformat(),
            "customer": {"phone": phone},
        },
    )
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def refund(api, order_id, amount="500000"):
    answer = api.post(
        f"/api/v1/orders/{order_id}/refunds", json={"external_id": "R-1", "amount": amount}
    )
    assert answer.status_code == 201, answer.json


def points(api, member_id):
    return api.get(f"/api/v1/members/{member_id}").json["points"]["available"]


def referrals(api, **query):
    return api.get("/api/v1/referrals", query_string=query).json["data"]


def test_a_friends_first_paid_order_rewards_both_sides_once_after_the_refund_window(api, hub, shop):
    store, code = shop
    friend = member(api, "0987000001")
    assert claim(hub, friend["id"], code) == ("joined", None)
    pay(api, "0987000001", "F-1")

    # The order path made it pending; settling inside the window changes nothing.
    assert settle_referrals(hub, now=PAID + timedelta(days=1))["rewarded"] == 0
    assert points(api, store.member_id) == 0  # still inside the refund window
    [pending] = referrals(api)
    assert pending["status"] == "pending"
    assert pending["due_at"].startswith("2026-11-16")

    assert settle_referrals(hub, now=PAID + timedelta(days=15))["rewarded"] == 1
    assert points(api, store.member_id) == 200
    assert points(api, friend["id"]) == 500 + 100
    # Settling again, or a second paid order of the friend, changes nothing.
    pay(api, "0987000001", "F-2", at=PAID + timedelta(days=2))
    assert settle_referrals(hub, now=PAID + timedelta(days=40)) == {
        "rewarded": 0,
        "rejected": 0,
        "reversed": 0,
    }
    assert points(api, store.member_id) == 200
    assert [r["status"] for r in referrals(api)] == ["rewarded"]


def test_a_second_claim_answers_the_first_and_another_code_changes_nothing(api, hub, shop):
    _store, code = shop
    other = member(api, "0987000009", name="Minh")
    other_code = ensure_code(hub, api.merchant.id, other["id"])
    friend = member(api, "0987000001")
    assert claim(hub, friend["id"], code) == ("joined", None)
    assert claim(hub, friend["id"], code) == ("joined", None)
    assert claim(hub, friend["id"], other_code) == ("joined", None)
    [only] = referrals(api)
    assert only["referrer_id"] != other["id"]


@pytest.mark.parametrize("identity", ["phone", "email", "store customer", "address"])
def test_a_member_cannot_refer_themselves_by_any_identity(api, hub, shop, identity):
    store, code = shop
    if identity == "address":
        street = {"address": "12 Hàng Bạc", "ward": "Hàng Bạc", "province": "Hà Nội"}
        api.patch(f"/api/v1/members/{store.member_id}", json=street)
        friend_id = member(api, "0987000002", **street)["id"]
    else:
        # The friend signs in at the store with the referrer's own phone, email or
        # customer account: the hub finds the referrer.
        customer = {
            "phone": {"phone": "0912 345 678"},
            "email": {"email": "LAN@example.vn"},
            "store customer": {"external_id": "cust-1"},
        }[identity]
        with hub.db.session() as session:
            friend_id = _resolve(hub, session, store.connection_id, customer)
    assert claim(hub, friend_id, code) == ("rejected", "self")
    pay(api, "0912345678", "SELF-1")
    settle_referrals(hub, now=PAID + timedelta(days=30))
    assert points(api, store.member_id) == 500  # the order's own points, no referral reward


def _resolve(hub, session, connection_id, customer):
    from hub.canonical import Customer
    from hub.models import Connection

    found = hub.pm.hook.member_for_customer(
        hub=hub,
        session=session,
        merchant_id=session.get(Connection, connection_id).merchant_id,
        connection_id=connection_id,
        customer=Customer(**customer),
    )
    return found.id


def test_a_friend_the_store_already_knew_is_not_new(api, hub, shop):
    _store, code = shop
    friend = member(api, "0987000003")
    pay(api, "0987000003", "OLD-1", at=PAID - timedelta(days=60))
    assert claim(hub, friend["id"], code) == ("rejected", "not_new")


def test_two_friends_sharing_a_phone_are_one_friend(api, hub, shop):
    store, code = shop
    first = member(api, "0987000004", name="Hoa")
    assert claim(hub, first["id"], code) == ("joined", None)
    # The second signs up at the store with the same phone: the hub finds the first.
    with hub.db.session() as session:
        second = _resolve(
            hub, session, store.connection_id, {"phone": "0987000004", "external_id": "cust-9"}
        )
    assert second == first["id"]
    assert claim(hub, second, code) == ("joined", None)
    pay(api, "0987000004", "F-4")
    settle_referrals(hub, now=PAID + timedelta(days=1))
    settle_referrals(hub, now=PAID + timedelta(days=15))
    assert points(api, store.member_id) == 200
    assert len(referrals(api)) == 1


def test_a_referrer_past_the_monthly_limit_earns_no_more(api, hub, shop):
    store, code = shop
    for n in range(3):
        phone = f"098700010{n}"
        claim(hub, member(api, phone)["id"], code)
        pay(api, phone, f"L-{n}")
    settle_referrals(hub, now=PAID + timedelta(days=1))
    moved = settle_referrals(hub, now=PAID + timedelta(days=15))
    assert moved["rewarded"] == 2 and moved["rejected"] == 1
    assert points(api, store.member_id) == 400
    [refused] = referrals(api, status="rejected")
    assert refused["reason"] == "monthly_limit"


def test_settlement_looks_only_at_referrals_past_their_refund_window(api, hub, shop):
    """Given friends who paid on different days, each is settled when its own window ends."""
    _store, code = shop
    for n, days in enumerate((0, 3, 6)):
        phone = f"098700030{n}"
        claim(hub, member(api, phone)["id"], code)
        pay(api, phone, f"D-{n}", at=PAID + timedelta(days=days))
    assert [r["status"] for r in referrals(api)] == ["pending"] * 3
    assert settle_referrals(hub, now=PAID + timedelta(days=14, seconds=-1))["rewarded"] == 0
    assert settle_referrals(hub, now=PAID + timedelta(days=14))["rewarded"] == 1
    assert settle_referrals(hub, now=PAID + timedelta(days=17))["rewarded"] == 1
    assert [r["status"] for r in referrals(api)] == ["rewarded", "rewarded", "pending"]
    with hub.db.session() as session:
        due = session.execute(due_pending(PAID + timedelta(days=19))).all()
    assert due == []  # the third is due on day 20: not read before then


def test_the_monthly_limit_counts_months_in_the_merchants_timezone(api, hub, shop):
    """Given a limit of one and a reward at 23:30 on 30 November in Hanoi (16:30 UTC),
    a referral settled at 23:45 that night is refused, one at 00:30 on 1 December
    (still 30 November in UTC) is rewarded: December has begun in Hanoi."""
    store, code = shop
    api.patch("/api/v1/referrals/settings", json={"monthly_limit": 1, "hold_days": 0})
    late = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 23:30 in Hanoi
    for n, minutes in enumerate((0, 15, 60)):
        phone = f"098700040{n}"
        claim(hub, member(api, phone)["id"], code, at=late - timedelta(days=1))
        pay(api, phone, f"M-{n}", at=late + timedelta(minutes=minutes))
        settle_referrals(hub, now=late + timedelta(minutes=minutes))
    states = [(r["status"], r["reason"]) for r in referrals(api)]
    assert states == [("rewarded", None), ("rejected", "monthly_limit"), ("rewarded", None)]
    assert points(api, store.member_id) == 400


def test_a_refund_inside_the_window_cancels_the_referral(api, hub, shop):
    store, code = shop
    friend = member(api, "0987000005")
    claim(hub, friend["id"], code)
    order_id = pay(api, "0987000005", "F-5")
    settle_referrals(hub, now=PAID + timedelta(days=1))
    refund(api, order_id, amount="100000")
    assert settle_referrals(hub, now=PAID + timedelta(days=14, seconds=-1))["rejected"] == 0
    assert settle_referrals(hub, now=PAID + timedelta(days=14))["rejected"] == 1
    settle_referrals(hub, now=PAID + timedelta(days=30))
    assert points(api, store.member_id) == 0
    [refused] = referrals(api)
    assert (refused["status"], refused["reason"]) == ("rejected", "refunded")


def test_a_refund_after_the_reward_takes_both_rewards_back(api, hub, shop):
    store, code = shop
    friend = member(api, "0987000006")
    claim(hub, friend["id"], code)
    order_id = pay(api, "0987000006", "F-6")
    settle_referrals(hub, now=PAID + timedelta(days=1))
    settle_referrals(hub, now=PAID + timedelta(days=15))
    assert points(api, store.member_id) == 200
    refund(api, order_id)
    assert settle_referrals(hub, now=PAID + timedelta(days=20))["reversed"] == 1
    assert settle_referrals(hub, now=PAID + timedelta(days=21))["reversed"] == 0
    assert points(api, store.member_id) == 0
    assert points(api, friend["id"]) == 0  # the order's points and the friend's reward
    [reversed_] = referrals(api)
    assert reversed_["status"] == "reversed"


def test_a_side_can_earn_a_voucher_instead_of_points(api, hub, shop):
    store, code = shop
    api.patch("/api/v1/referrals/settings", json={"referrer": {"reward_id": store.reward_ids[0]}})
    friend = member(api, "0987000007")
    claim(hub, friend["id"], code)
    pay(api, "0987000007", "F-7")
    settle_referrals(hub, now=PAID + timedelta(days=1))
    settle_referrals(hub, now=PAID + timedelta(days=15))
    vouchers = api.get(f"/api/v1/members/{store.member_id}/vouchers").json["data"]
    assert [v["reward_name"] for v in vouchers] == ["Giảm 50.000đ"]
    assert points(api, store.member_id) == 0  # given, not bought


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"referrer": {"points": 100, "reward_id": 1}}, "referrer"),
        ({"friend": {}}, "friend"),
        ({"hold_days": -1}, "hold_days"),
        ({"monthly_limit": 0}, "monthly_limit"),
        ({"referrer": {"reward_id": 999999}}, "referrer"),
        ({"enabled": "sometimes"}, "enabled"),
    ],
)
def test_bad_referral_terms_are_refused_with_a_clear_error(api, shop, terms, field):
    answer = api.patch("/api/v1/referrals/settings", json=terms)
    assert answer.status_code == 422, answer.json
    assert answer.json["error"]["code"] == "validation_error"
    assert field in str(answer.json["error"]["details"])


def test_the_widget_ties_a_signed_in_friend_to_the_code(api, hub, client, shop):
    store, code = shop
    friend = member(api, "0987000008")
    api.post(
        f"/api/v1/members/{friend['id']}/identities",
        json={"connection_id": store.connection_id, "external_id": "cust-8"},
    )
    url = f"/widget/v1/c/{store.connection_id}/referral"
    assert client.post(url, json={"code": code}).status_code == 401
    token = sign_visitor("cust-8", store.widget_secret)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post(url, json={"code": ""}, headers=headers).status_code == 422
    unknown = client.post(url, json={"code": "NOSUCHCODE"}, headers=headers)
    assert unknown.json["error"]["code"] == "unknown_referral_code"
    answer = client.post(url, json={"code": code.lower()}, headers=headers)
    assert answer.status_code == 200 and answer.json == {"status": "joined", "reason": None}
    referrer = client.get(
        f"/widget/v1/c/{store.connection_id}/state",
        headers={"Authorization": f"Bearer {sign_visitor('cust-1', store.widget_secret)}"},
    ).json["member"]
    assert referrer["referrals"] == {"code": code, "joined": 1, "pending": 0, "rewarded": 0}
    assert referrer["referral_url"].endswith(f"/?ref={code}")


def test_concurrent_claims_of_one_friend_make_one_referral(api, hub, shop):
    _store, code = shop
    friend = member(api, "0987000010")
    answers, errors = [], []

    def one():
        try:
            answers.append(claim(hub, friend["id"], code))
        except Exception as exc:  # a lost race surfaces as the unique constraint
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(referrals(api)) == 1
    assert answers and all(a == ("joined", None) for a in answers)
    assert set(errors) <= {"IntegrityError"}
