"""Haravan end to end over HTTP: the hub under a real WSGI server, the shop simulated.

The simulator stands in for accounts.haravan.com, apis.haravan.com and
webhook.haravan.com on one loopback port; it sends signed app webhooks to the
hub's app-wide URL. The flow test runs its jobs on real Redis (``run_jobs``);
the others run them inline.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from connectors.haravan import signing
from connectors.haravan.setup import TOPICS
from connectors.haravan.simulator import HaravanSimulator
from hub.models import Connection
from hub.models import Member
from hub.models import Order
from hub.models.rewards import Voucher
from hub.testing import ManualClock
from hub.testing import create_test_merchant
from hub.testing import run_jobs
from webhooks.models import InboxEntry
from webhooks.testing import LiveServer

ORG = "1000114691"
CLIENT_ID = "haravan-client"
CLIENT_SECRET = "haravan-secret"
VERIFY_TOKEN = "verify-me"


@pytest.fixture
def hub_config():
    # The shop simulator listens on loopback.
    return {"HUB_PLUGINS_CONFIG": {"haravan": {}}, "HUB_ALLOW_PRIVATE_TARGETS": True}


def configure(hub, server, shop):
    hub.config["HUB_PUBLIC_URL"] = server.url
    hub.config["HUB_ALLOW_PRIVATE_TARGETS"] = True  # the shop simulator listens on loopback
    hub.config["HUB_PLUGINS_CONFIG"] = {
        **(hub.config.get("HUB_PLUGINS_CONFIG") or {}),
        "haravan": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "verify_token": VERIFY_TOKEN,
            "accounts_url": shop.url,
            "api_url": shop.url,
            "webhook_api_url": shop.url,
        },
    }
    shop.callback_url = f"{server.url}/webhooks/haravan"


class World:
    def __init__(self, app, hub, headers, server, shop, worker=None):
        self.app, self.hub, self.headers, self.server, self.shop = app, hub, headers, server, shop
        self.client = app.test_client()
        self.worker = worker or (lambda: None)

    def api(self, method, path, **kwargs):
        return self.client.open(path, method=method, headers=self.headers, **kwargs)

    def connect(self) -> int:
        answer = self.api("POST", "/api/v1/haravan/connect", json={})
        assert answer.status_code == 200, answer.json
        final = requests.Session().get(answer.json["authorize_url"], timeout=30)
        assert final.status_code == 200, final.text
        self.worker()
        return final.json()["connection_id"]

    def member(self, email):
        with self.hub.db.session() as session:
            return session.scalars(select(Member).where(Member.email == email)).first()

    def balance(self, member_id):
        with self.hub.db.session() as session:
            return session.get(Member, member_id).points_balance

    def connection(self, connection_id):
        with self.hub.db.session() as session:
            return session.get(Connection, connection_id)


@pytest.fixture
def program_settings():
    return {"earn_rate": {"amount": "1000", "points": 1}}


@pytest.fixture
def world(app, hub, merchant, program_settings):
    with (
        HaravanSimulator(
            org_id=ORG, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, verify_token=VERIFY_TOKEN
        ) as shop,
        LiveServer(app) as server,
    ):
        configure(hub, server, shop)
        shop.delivery_timeout = 60  # inline processing on a busy test machine
        world = World(app, hub, merchant.headers, server, shop)
        world.api("PUT", "/api/v1/program", json=program_settings)
        yield world


@pytest.fixture
def redis_world(redis_app):
    hub = redis_app.extensions["hub"]
    merchant = create_test_merchant(hub, "Trà Sen")
    with (
        HaravanSimulator(
            org_id=ORG, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, verify_token=VERIFY_TOKEN
        ) as shop,
        LiveServer(redis_app) as server,
    ):
        configure(hub, server, shop)
        world = World(redis_app, hub, merchant.headers, server, shop, lambda: run_jobs(hub))
        world.api("PUT", "/api/v1/program", json={"earn_rate": {"amount": "1000", "points": 1}})
        yield world


def test_a_shop_connects_earns_redeems_refunds_and_uninstalls_on_real_redis(redis_world):
    world, shop = redis_world, redis_world.shop

    # Given a shop owner who connects by OpenID Connect
    connection_id = world.connect()

    # then Haravan checked the callback URL and the topics and ScriptTag are in place
    assert shop.challenges == [200] and sorted(shop.topics) == sorted(TOPICS)
    assert shop.script_tags[0]["src"].endswith(f"/haravan/widget.js?connection={connection_id}")
    settings = world.connection(connection_id).settings
    assert (settings["org_id"], settings["currency"]) == (ORG, "VND")

    # When a customer signs up with Haravan's own fields and pays 600,000₫
    customer = shop.add_customer(
        email="sen@example.vn",
        phone="0912000111",
        first_name="Sen",
        birthday="1990-05-17T00:00:00Z",
        gender=0,
    )
    first = shop.place_order(customer=customer)
    world.worker()

    # then the member has the district, ward, gender and birthday, and earned points
    member = world.member("sen@example.vn")
    assert (member.district, member.ward, member.gender) == ("Quận 11", "Phường 15", "female")
    assert member.birthday == date(1990, 5, 17) and member.phone == "+84912000111"
    assert world.balance(member.id) == 600

    # When they redeem a reward, the discount is created in the shop
    reward = world.api(
        "POST",
        "/api/v1/rewards",
        json={
            "name": "Giảm 100.000đ",
            "kind": "amount_off",
            "value": "100000",
            "points_cost": 300,
        },
    ).json
    redeemed = world.api(
        "POST", f"/api/v1/members/{member.id}/redemptions", json={"reward_id": reward["id"]}
    )
    assert redeemed.status_code == 201, redeemed.json
    code = redeemed.json["voucher"]["code"]
    world.worker()
    assert shop.discounts[code]["discount_type"] == "fixed_amount"
    assert shop.discounts[code]["value"] == 100000 and shop.discounts[code]["usage_limit"] == 1

    # When an order uses the code, the voucher is used
    shop.place_order(customer=customer, lines=[("Trà sen", 300000.0, 1)], discount_code=code)
    world.worker()
    with world.hub.db.session() as session:
        assert session.scalars(select(Voucher).where(Voucher.code == code)).one().status == "used"
    balance = world.balance(member.id)
    assert balance == 600 - 300 + 200

    # When a third of the first order is refunded, a third of its points go back
    shop.refund(first["id"], 200000.0)
    world.worker()
    assert world.balance(member.id) == balance - 200

    # When the owner uninstalls the app, the connection stops calling
    shop.uninstall()
    world.worker()
    assert world.connection(connection_id).status == "disabled"
    calls = len(shop.calls)
    from connectors.haravan.sync import reconcile_connection

    with world.app.app_context():
        assert reconcile_connection(connection_id) == {"skipped": True}
    assert len(shop.calls) == calls


def test_forged_duplicate_and_test_deliveries(world):
    world.connect()
    customer = world.shop.add_customer(email="lan@example.vn", notify=False)
    order = world.shop.place_order(customer=customer, notify=False)

    forged = world.shop.send("orders/create", order, forge=True)
    tests = world.shop.send("orders/create", order, test=True)
    duplicates = world.shop.send("orders/paid", order, times=3)

    assert [a["status"] for a in forged] == [401]
    assert [a["status"] for a in tests + duplicates] == [200] * 4
    with world.hub.db.session() as session:
        statuses = sorted(e.status for e in session.scalars(select(InboxEntry)))
        assert statuses == ["ignored", "processed"]  # the test delivery, then one of three
        assert len(session.scalars(select(Order)).all()) == 1
    assert world.balance(world.member("lan@example.vn").id) == 600


def test_a_pos_order_without_a_customer_is_stored_and_earns_nothing(world):
    world.connect()
    order = world.shop.place_order(customer=None, lines=[("Trà sen", 13200000.0, 1)])
    with world.hub.db.session() as session:
        stored = session.scalars(select(Order)).one()
        assert stored.external_id == str(order["id"]) and stored.member_id is None
        assert stored.total == Decimal("13200000")


def test_the_verify_challenge_is_echoed_only_for_the_right_token(world):
    good = world.client.get(
        "/webhooks/haravan",
        query_string={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "abc123",
        },
    )
    bad = world.client.get(
        "/webhooks/haravan",
        query_string={
            "hub.mode": "subscribe",
            "hub.verify_token": "guess",
            "hub.challenge": "abc123",
        },
    )
    assert (good.status_code, good.get_data(as_text=True)) == (200, "abc123")
    assert bad.status_code == 403


@pytest.mark.parametrize(
    "program_settings",
    [{"earn_rate": {"amount": "1000", "points": 1}, "start_date": "2025-01-01"}],
)
def test_backfill_imports_history_within_the_call_limit_and_resumes(world, monkeypatch):
    connection_id = world.connect()
    customers = [world.shop.add_customer(email=f"c{i}@example.vn", notify=False) for i in range(5)]
    for customer in customers[:4]:
        world.shop.place_order(
            customer=customer, notify=False, created_at="2024-01-05T03:00:00.000Z"
        )
    world.shop.place_order(customer=customers[4], notify=False)
    # The shop's bucket and the client's waits share a clock that moves only when the client
    # waits: how many calls meet a full bucket does not depend on how loaded the machine is.
    clock = ManualClock()
    monkeypatch.setattr("connectors.haravan.client.time", clock)
    monkeypatch.setattr("connectors.haravan.simulator.time", clock)
    world.shop.bucket.size, world.shop.bucket.rate = 3, 4.0  # a tight bucket: 429s will come
    world.shop.bucket.level, world.shop.bucket.at = 0.0, clock.monotonic()
    from connectors.haravan.sync import backfill

    with world.app.app_context():
        state = backfill(world.hub, connection_id, page_size=2, max_pages=2)
        assert (state["phase"], state["page"]) == ("customers", 3)
        state = backfill(world.hub, connection_id, page_size=2)

    assert state["phase"] == "done" and state["done"] == 10
    assert world.shop.limited >= 1  # the shop said 429 and the client waited and went on
    with world.hub.db.session() as session:
        assert len(session.scalars(select(Order)).all()) == 5
    # Orders from before the program started earn nothing (count_orders_before_start is off).
    assert world.balance(world.member("c0@example.vn").id) == 0
    assert world.balance(world.member("c4@example.vn").id) == 600


def test_the_backfill_command_shows_progress(world):
    connection_id = world.connect()
    world.shop.add_customer(email="cli@example.vn", notify=False)
    result = world.app.test_cli_runner().invoke(args=["haravan", "backfill", str(connection_id)])
    assert result.exit_code == 0, result.output
    assert "1 records imported; phase done" in result.output


def test_a_legacy_sha1_signature_verifies_only_when_the_connection_allows_it(hub, api):
    created = api.post(
        "/api/v1/connections",
        json={
            "connector": "haravan",
            "settings": {"org_id": ORG},
            "secrets": {"webhook_secret": "private-key"},
        },
    ).json
    body = b'{"id": 1}'
    headers = {"X-Haravan-Hmacsha256": signing.legacy_hmac("private-key", body)}
    with hub.db.session() as session:
        connection = session.get(Connection, created["id"])
    verify = hub.connector("haravan").verify_webhook
    assert verify(hub, connection, headers, body) is False
    connection.settings = {**connection.settings, "legacy_hmac_sha1": True}
    assert verify(hub, connection, headers, body) is True


def redeem_in_shop(world, email="lan@example.vn"):
    """A member who earned 600 points in the shop redeems 100,000₫ off; return member and code."""
    world.connect()
    customer = world.shop.add_customer(email=email, phone="0912000222", first_name="Lan")
    world.shop.place_order(customer=customer)
    member = world.member(email)
    reward = world.api(
        "POST",
        "/api/v1/rewards",
        json={"name": "Giảm 100.000đ", "kind": "amount_off", "value": "100000", "points_cost": 300},
    ).json
    redeemed = world.api(
        "POST", f"/api/v1/members/{member.id}/redemptions", json={"reward_id": reward["id"]}
    )
    assert redeemed.status_code == 201, redeemed.json
    return customer, member, redeemed.json["voucher"]["code"]


def disables(shop):
    return [call for call in shop.calls if call.endswith("/disable.json")]


def test_a_cancelled_voucher_is_disabled_in_the_shop_once_and_takes_nothing_off(world):
    from connectors.haravan.models import HaravanDiscount

    shop = world.shop
    customer, member, code = redeem_in_shop(world)
    assert shop.discounts[code]["is_active"] and world.balance(member.id) == 300

    # When the merchant cancels the voucher, the member gets the points back
    answer = world.api("POST", f"/api/v1/vouchers/{code}/cancel", json={"note": "đổi ý"})
    assert answer.status_code == 200, answer.json
    assert world.balance(member.id) == 600

    # and the shop's discount is disabled, by the id Haravan gave it
    assert not shop.discounts[code]["is_active"]
    assert disables(shop) == [f"PUT /com/discounts/{shop.discounts[code]['id']}/disable.json"]
    with world.hub.db.session() as session:
        assert session.scalars(select(HaravanDiscount)).one().disabled_at is not None

    # so an order with the code takes nothing off and leaves the voucher cancelled.
    order = shop.place_order(
        customer=customer, lines=[("Trà sen", 300000.0, 1)], discount_code=code
    )
    assert order["total_discounts"] == 0 and order["total_price"] == 300000.0
    with world.hub.db.session() as session:
        assert session.scalars(select(Voucher).where(Voucher.code == code)).one().status == (
            "cancelled"
        )

    # The job run again calls the shop no more.
    from connectors.haravan.vouchers import withdraw_code

    assert withdraw_code(world.hub, member.merchant_id, code) == []
    assert len(disables(shop)) == 1


def test_a_voucher_cancelled_while_its_discount_is_created_is_disabled_by_that_job(
    world, monkeypatch
):
    from connectors.haravan import vouchers
    from hub.rewards.vouchers import cancel_voucher
    from hub.rewards.vouchers import get_voucher

    remember = vouchers._remember

    def cancelled_meanwhile(hub, connection_id, code, discount):
        # The member cancels after Haravan created the discount, before its id is kept:
        # the cancellation's own job finds nothing to disable yet.
        with hub.db.transaction() as session:
            voucher = get_voucher(session, world.member("lan@example.vn").merchant_id, code)
            cancel_voucher(session, voucher, note="đổi ý")
        assert disables(world.shop) == []
        remember(hub, connection_id, code, discount)

    monkeypatch.setattr(vouchers, "_remember", cancelled_meanwhile)
    _, member, code = redeem_in_shop(world)

    assert world.balance(member.id) == 600
    assert not world.shop.discounts[code]["is_active"] and len(disables(world.shop)) == 1


def test_a_voucher_cancelled_before_its_push_ran_is_never_created(world):
    from hub import Event

    _, member, code = redeem_in_shop(world)
    world.shop.discounts.clear()
    assert world.api("POST", f"/api/v1/vouchers/{code}/cancel", json={}).status_code == 200
    event = Event(
        type="voucher.issued",
        merchant_id=member.merchant_id,
        data={"code": code, "kind": "amount_off", "value": "100000", "member_id": member.id},
    )
    pushed = world.hub.connector("haravan").push_voucher(world.hub, event)
    assert pushed == [] and world.shop.discounts == {}


def test_a_second_merchant_naming_the_shop_receives_none_of_its_webhooks(world):
    # Given the shop's owner connected it by OAuth
    owner_id = world.connect()
    # and a second merchant creates a connection through the API naming the same org id
    squatter = create_test_merchant(world.hub, "Squatter")
    created = world.client.post(
        "/api/v1/connections",
        headers=squatter.headers,
        json={
            "connector": "haravan",
            "settings": {"org_id": ORG},
            "secrets": {"webhook_secret": "squatter-key"},
        },
    )
    assert created.status_code == 201, created.json

    # When the shop's app webhooks arrive for a customer and an order
    customer = world.shop.add_customer(email="lan@example.vn")
    world.shop.place_order(customer=customer)

    # then they all reached the owner's connection and the member is the owner's
    with world.hub.db.session() as session:
        inbox = session.scalars(select(InboxEntry)).all()
    assert inbox and {e.connection_id for e in inbox} == {owner_id}
    member = world.member("lan@example.vn")
    assert member.merchant_id == world.connection(owner_id).merchant_id
    assert world.balance(member.id) == 600


def test_a_connection_that_only_names_an_org_id_is_never_chosen_for_app_webhooks(hub, api):
    created = api.post(
        "/api/v1/connections", json={"connector": "haravan", "settings": {"org_id": ORG}}
    )
    assert created.status_code == 201, created.json
    found = hub.connector("haravan").connection_for(hub, {"X-Haravan-Org-Id": ORG}, b"{}")
    assert found is None
