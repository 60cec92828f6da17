"""Shopify end to end over HTTP: the hub under a real WSGI server, the store simulated.

The hub serves on 127.0.0.1 in a thread; the store simulator serves on
another port and sends signed webhooks to the hub, which calls the
simulator's OAuth and GraphQL Admin API. Jobs run inline (no Redis) here;
the database is SQLite or PostgreSQL per ``HUB_TEST_DATABASE_URL``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from connectors.shopify.setup import TOPICS
from connectors.shopify.simulator import ShopifySimulator
from hub.models import AuditRecord
from hub.models import Connection
from hub.models import EventRecord
from hub.models import Member
from hub.models import MemberIdentity
from hub.models import Order
from hub.models.rewards import Voucher
from hub.testing import ManualClock
from webhooks.models import InboxEntry
from webhooks.testing import LiveServer

SHOP = "hoa-mai.myshopify.com"
API_KEY = "test-shopify-key"
API_SECRET = "test-shopify-secret"


@pytest.fixture
def hub_config():
    return {
        "HUB_ALLOW_PRIVATE_TARGETS": True,  # the store simulator listens on loopback
        "HUB_PLUGINS_CONFIG": {
            "shopify": {"api_key": API_KEY, "api_secret": API_SECRET, "proxy_path": "/apps/loyalty"}
        },
    }


class World:
    """The hub on one port, the store on another, and the merchant's API key."""

    def __init__(self, app, hub, api, server, store):
        self.app, self.hub, self.api, self.server, self.store = app, hub, api, server, store

    def connect(self) -> int:
        answer = self.api.post("/api/v1/shopify/connect", json={"shop": SHOP})
        assert answer.status_code == 200, answer.json
        browser = requests.Session()
        final = browser.get(answer.json["authorize_url"], timeout=30)
        assert final.status_code == 200, final.text
        return final.json()["connection_id"]

    def connection(self, connection_id) -> Connection:
        with self.hub.db.session() as session:
            return session.get(Connection, connection_id)

    def member(self, email):
        with self.hub.db.session() as session:
            return session.scalars(select(Member).where(Member.email == email)).first()

    def member_by_id(self, member_id):
        with self.hub.db.session() as session:
            return session.get(Member, member_id)

    def orders(self):
        with self.hub.db.session() as session:
            return {o.external_id: o for o in session.scalars(select(Order))}


@pytest.fixture
def world(app, hub, api):
    simulator = ShopifySimulator(shop=SHOP, api_key=API_KEY, api_secret=API_SECRET)
    simulator.delivery_timeout = 60  # inline processing on a busy test machine
    with simulator as store, LiveServer(app) as server:
        hub.config["HUB_PUBLIC_URL"] = server.url
        hub.config["HUB_PLUGINS_CONFIG"]["shopify"]["shop_url"] = store.url
        store.compliance_url = f"{server.url}/webhooks/shopify"
        api.put("/api/v1/program", json={"earn_rate": {"amount": "1000", "points": 1}})
        yield World(app, hub, api, server, store)


def test_a_store_connects_earns_redeems_refunds_redacts_and_uninstalls(world):
    store, api = world.store, world.api

    # Given a merchant who connects their store by OAuth
    connection_id = world.connect()

    # then the store has the hub's webhooks and the widget's script tag
    url = f"{world.server.url}/webhooks/shopify/{connection_id}"
    assert sorted(s["topic"] for s in store.subscriptions if s["uri"] == url) == sorted(TOPICS)
    assert store.script_tags[0]["src"].endswith(f"/shopify/widget.js?connection={connection_id}")
    assert world.connection(connection_id).settings["currency"] == "VND"

    # When a customer signs up and pays an order of 500,000₫
    customer = store.add_customer(
        email="lan@example.vn", phone="+84912345678", first_name="Lan", last_name="Nguyễn"
    )
    member = world.member("lan@example.vn")
    assert member is not None and member.phone == "+84912345678" and member.name == "Lan Nguyễn"
    first = store.place_order(customer=customer, lines=[("Cà phê", "250000", 2)])

    # then the member earns one point per 1,000₫
    assert world.member_by_id(member.id).points_balance == 500
    assert world.orders()[str(first["id"])].total == Decimal("500000")

    # When they redeem a reward
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50.000đ", "kind": "amount_off", "value": "50000", "points_cost": 200},
    ).json
    redeemed = api.post(
        f"/api/v1/members/{member.id}/redemptions", json={"reward_id": reward["id"]}
    )
    assert redeemed.status_code == 201, redeemed.json
    code = redeemed.json["voucher"]["code"]

    # then the code exists in the store, for that customer only, once
    discount = store.discounts[code]
    assert discount["usageLimit"] == 1
    assert discount["context"] == {
        "customers": {"add": [f"gid://shopify/Customer/{customer['id']}"]}
    }
    assert discount["customerGets"]["value"]["discountAmount"]["amount"] == "50000"

    # When a second voucher is redeemed and then cancelled, its code leaves the store
    other = api.post(f"/api/v1/members/{member.id}/redemptions", json={"reward_id": reward["id"]})
    other_code = other.json["voucher"]["code"]
    assert other_code in store.discounts
    cancelled = api.post(f"/api/v1/vouchers/{other_code}/cancel")
    assert cancelled.status_code == 200, cancelled.json
    assert other_code not in store.discounts
    assert code in store.discounts  # the other voucher is untouched

    # When an order uses the code, the voucher is used
    second = store.place_order(
        customer=customer, lines=[("Bánh mì", "100000", 1)], discount_code=code
    )
    with world.hub.db.session() as session:
        voucher = session.scalars(select(Voucher).where(Voucher.code == code)).one()
        assert voucher.status == "used"
        assert voucher.used_order_id == world.orders()[str(second["id"])].id
    balance = world.member_by_id(member.id).points_balance
    assert balance == 500 - 200 + 50  # the second order paid 50,000₫

    # When half of the first order is refunded, half its points go back
    store.refund(first["id"], "250000")
    assert world.member_by_id(member.id).points_balance == balance - 250

    # When the customer asks to be forgotten, their personal data goes; the ledger stays
    answers = store.redact_customer(customer["id"])
    assert [a["status"] for a in answers] == [200]
    erased = world.member_by_id(member.id)
    assert (erased.status, erased.phone, erased.email, erased.name) == ("erased", None, None, "")
    assert erased.points_balance == balance - 250
    assert all(o.customer == {} for o in world.orders().values())

    # When the merchant uninstalls the app, the connection stops
    store.uninstall()
    stopped = world.connection(connection_id)
    assert stopped.status == "disabled" and stopped.settings["uninstalled"] is True
    calls = len(store.calls)
    from connectors.shopify.sync import reconcile_connection

    with world.app.app_context():
        assert reconcile_connection(connection_id) == {"skipped": True}
    assert len(store.calls) == calls
    late = store.send("orders/create", first)
    assert late == []  # the store dropped its subscriptions
    status, _ = world.server.post(f"/webhooks/shopify/{connection_id}", b"{}", {})
    assert status == 404


def test_forged_signatures_are_refused_and_nothing_is_stored(world):
    connection_id = world.connect()
    customer = world.store.add_customer(email="mai@example.vn", notify=False)

    answers = world.store.send("customers/create", customer, forge=True)

    assert [a["status"] for a in answers] == [401]
    with world.hub.db.session() as session:
        assert session.scalars(select(InboxEntry)).all() == []
    assert world.member("mai@example.vn") is None
    assert world.connection(connection_id).status == "active"


def test_duplicates_and_out_of_order_deliveries_award_points_once(world):
    world.connect()
    customer = world.store.add_customer(email="hoa@example.vn", phone="0987654321")
    order = world.store.place_order(customer=customer, financial_status="pending", notify=False)

    # The same event three times (one event id), and the refund before the payment.
    world.store.send("orders/create", order, times=3)
    world.store.pay_order(order["id"], notify=False)
    world.store.send("orders/paid", order, hold=True)
    refund = world.store.refund(order["id"], "100000", notify=False)
    world.store.send("refunds/create", refund, hold=True)
    world.store.release(reverse=True)
    world.store.send("orders/paid", order, times=2)

    member = world.member("hoa@example.vn")
    assert world.member_by_id(member.id).points_balance == 400  # 500 earned, 100 reversed
    with world.hub.db.session() as session:
        assert len(session.scalars(select(Order)).all()) == 1


def test_an_order_without_a_customer_is_stored_and_earns_nothing(world):
    """Shopify's own sample: a draft order with no customer and an empty email."""
    world.connect()
    order = world.store.place_order(
        customer=None, lines=[("The 3p Fulfilled Snowboard", "2629.95", 1)]
    )

    stored = world.orders()[str(order["id"])]
    assert stored.member_id is None and stored.total == Decimal("2629.95")
    with world.hub.db.session() as session:
        assert [e.status for e in session.scalars(select(InboxEntry))] == ["processed"] * 2


def test_a_data_request_sends_the_member_export_to_the_merchant(world):
    world.connect()
    customer = world.store.add_customer(email="thu@example.vn", phone="0903123456")
    world.store.place_order(customer=customer)

    world.store.request_customer_data(customer["id"])

    with world.hub.db.session() as session:
        [event] = session.scalars(
            select(EventRecord).where(EventRecord.type == "member.data_requested")
        ).all()
        audit = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "privacy.data_requested")
        ).one()
    export = event.data["export"]
    assert export["member"]["email"] == "thu@example.vn"
    assert len(export["orders"]) == 1 and export["points"][0]["points"] == 500
    assert audit.data["member_found"] is True and "email" not in str(audit.data)


def test_shop_redact_after_uninstall_forgets_the_store(world):
    connection_id = world.connect()
    customer = world.store.add_customer(email="an@example.vn")
    world.store.place_order(customer=customer)
    world.store.uninstall()

    answers = world.store.redact_shop()

    assert [a["status"] for a in answers] == [200]
    with world.hub.db.session() as session:
        identities = session.scalars(
            select(MemberIdentity).where(MemberIdentity.connection_id == connection_id)
        ).all()
        assert identities == []
    assert all(o.customer == {} for o in world.orders().values())
    connection = world.connection(connection_id)
    assert connection.settings["redacted"] is True
    assert world.hub.secrets.decrypt(connection.secrets_encrypted) == {}


def test_reconciliation_restores_webhooks_and_accrues_missed_orders(world):
    connection_id = world.connect()
    customer = world.store.add_customer(email="binh@example.vn")
    world.store.drop_subscriptions()  # Shopify removed them after failed deliveries
    missed = world.store.place_order(customer=customer, notify=False)

    from connectors.shopify.sync import reconcile_connection

    with world.app.app_context():
        result = reconcile_connection(connection_id)

    assert result["orders"] == 1 and sorted(result["webhooks_created"]) == sorted(TOPICS)
    assert str(missed["id"]) in world.orders()
    assert world.member_by_id(world.member("binh@example.vn").id).points_balance == 500


def test_a_pasted_custom_app_token_connects_and_verifies_with_its_own_key(world):
    token = world.store.issue_token()
    world.store.webhook_secret = "custom-app-secret"
    created = world.api.post(
        "/api/v1/connections",
        json={
            "connector": "shopify",
            "settings": {"shop": SHOP},
            "secrets": {"access_token": token, "webhook_secret": "custom-app-secret"},
        },
    )
    assert created.status_code == 201, created.json
    connection_id = created.json["id"]
    assert "access_token" in created.json["secret_names"]

    queued = world.api.post(f"/api/v1/shopify/connections/{connection_id}/setup")
    assert queued.status_code == 202
    world.store.add_customer(email="custom@example.vn")

    assert len(world.store.subscriptions) == len(TOPICS)
    assert world.member("custom@example.vn") is not None


def test_backfill_pages_through_history_within_the_cost_limit_and_resumes(world, monkeypatch):
    connection_id = world.connect()
    customers = [world.store.add_customer(email=f"k{i}@example.vn", notify=False) for i in range(4)]
    for customer in customers:
        world.store.place_order(customer=customer, notify=False)
    # The store's bucket and the client's waits share a clock that moves only when the client
    # waits: how many calls are throttled does not depend on how loaded the machine is.
    clock = ManualClock()
    monkeypatch.setattr("connectors.shopify.client.time", clock)
    monkeypatch.setattr("connectors.shopify.simulator.time", clock)
    world.store.bucket.size, world.store.bucket.rate = 12.0, 10.0  # pages must wait
    world.store.bucket.available, world.store.bucket.at = 12.0, clock.monotonic()
    from connectors.shopify.sync import backfill

    with world.app.app_context():
        state = backfill(world.hub, connection_id, page_size=2, max_pages=1)
        assert state["phase"] == "customers" and state["cursor"] is not None
        state = backfill(world.hub, connection_id, page_size=2)

    assert state == {**state, "phase": "done", "done": 8}
    assert world.store.throttled >= 1  # Shopify said THROTTLED and the client waited
    assert len(world.orders()) == 4
    assert world.member_by_id(world.member("k3@example.vn").id).points_balance == 500


def test_the_backfill_command_shows_progress_and_finishes(world):
    connection_id = world.connect()
    world.store.add_customer(email="cli@example.vn", notify=False)
    result = world.app.test_cli_runner().invoke(args=["shopify", "backfill", str(connection_id)])
    assert result.exit_code == 0, result.output
    assert "1 records imported; phase done" in result.output
    assert world.member("cli@example.vn") is not None


def test_connector_widget_identity_names_the_member_behind_a_signed_app_proxy_request(world):
    import time

    from connectors.shopify import signing

    connection_id = world.connect()
    customer = world.store.add_customer(email="proxy@example.vn", phone="0911222333")
    member = world.member("proxy@example.vn")
    params = {
        "shop": SHOP,
        "logged_in_customer_id": str(customer["id"]),
        "path_prefix": "/apps/loyalty",
        "timestamp": str(int(time.time())),
    }
    params["signature"] = signing.proxy_signature(API_SECRET, params)
    state = f"{world.server.url}/widget/v1/c/{connection_id}/state"

    signed = requests.get(state, params=params, timeout=10).json()
    forged = requests.get(state, params={**params, "logged_in_customer_id": "1"}, timeout=10).json()
    guest = requests.get(state, params={**params, "signature": "0" * 64}, timeout=10).json()

    assert signed["member"] is not None and signed["member"]["code"] == member.code
    assert forged["member"] is None and guest["member"] is None


def test_a_voucher_cancelled_around_its_push_never_stays_usable_in_the_store(world, monkeypatch):
    from connectors.shopify import vouchers
    from hub.rewards.vouchers import cancel_voucher
    from hub.rewards.vouchers import get_voucher

    store, api = world.store, world.api
    world.connect()
    customer = store.add_customer(email="lan@example.vn", phone="+84912345678", first_name="Lan")
    store.place_order(customer=customer, lines=[("Cà phê", "250000", 2)])
    member = world.member("lan@example.vn")
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50.000đ", "kind": "amount_off", "value": "50000", "points_cost": 200},
    ).json
    create = vouchers.create_code

    def cancelled_meanwhile(open_store, voucher, customer_id):
        # The member cancels as the code is being created: the cancellation's own job
        # runs first and finds no code in the store to delete.
        with world.hub.db.transaction() as session:
            found = get_voucher(session, member.merchant_id, voucher["code"])
            cancel_voucher(session, found, note="đổi ý")
        assert voucher["code"] not in store.discounts
        create(open_store, voucher, customer_id)

    monkeypatch.setattr(vouchers, "create_code", cancelled_meanwhile)
    redeemed = api.post(
        f"/api/v1/members/{member.id}/redemptions", json={"reward_id": reward["id"]}
    )
    assert redeemed.status_code == 201, redeemed.json
    code = redeemed.json["voucher"]["code"]

    assert code not in store.discounts  # created, then deleted by the job that created it
    assert world.member_by_id(member.id).points_balance == 500
    monkeypatch.undo()

    # A voucher cancelled before its push ran is never created at all.
    from hub import Event

    assert (
        world.hub.connector("shopify").push_voucher(
            world.hub,
            Event(
                type="voucher.issued",
                merchant_id=member.merchant_id,
                data={"code": code, "kind": "amount_off", "value": "50000", "member_id": member.id},
            ),
        )
        == []
    )
    assert code not in store.discounts


def test_a_second_merchant_naming_the_store_receives_none_of_its_privacy_requests(world, other_api):
    # Given the store's owner connected it by OAuth, and a customer with an order
    owner_id = world.connect()
    customer = world.store.add_customer(email="lan@example.vn", phone="+84912345678")
    world.store.place_order(customer=customer)
    member = world.member("lan@example.vn")
    # and a second merchant creates a connection through the API naming the same store
    squatter = other_api.post(
        "/api/v1/connections",
        json={"connector": "shopify", "settings": {"shop": SHOP}, "secrets": {"access_token": "x"}},
    )
    assert squatter.status_code == 201, squatter.json
    squatter_id = squatter.json["id"]

    # When Shopify sends the store's app-wide privacy requests
    assert [a["status"] for a in world.store.request_customer_data(customer["id"])] == [200]
    assert [a["status"] for a in world.store.redact_customer(customer["id"])] == [200]
    world.store.uninstall()
    assert [a["status"] for a in world.store.redact_shop()] == [200]

    # then every one reached the owner's connection and none the second merchant's
    with world.hub.db.session() as session:
        inbox = session.scalars(select(InboxEntry)).all()
        requested = session.scalars(
            select(EventRecord).where(EventRecord.type == "member.data_requested")
        ).all()
    topics = {(e.connection_id, e.topic) for e in inbox}
    privacy = ("customers/data_request", "customers/redact", "shop/redact")
    assert {(owner_id, t) for t in privacy} <= topics
    assert {c for c, _topic in topics} == {owner_id}
    assert [e.merchant_id for e in requested] == [world.connection(owner_id).merchant_id]
    # and the owner's redactions ran
    erased = world.member_by_id(member.id)
    assert (erased.status, erased.email, erased.phone) == ("erased", None, None)
    assert world.connection(owner_id).settings["redacted"] is True
    assert "redacted" not in (world.connection(squatter_id).settings or {})
