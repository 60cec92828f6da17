"""The KiotViet connector against the KiotViet simulator, everything over real HTTP on loopback.

The hub runs under a real WSGI server; the simulator serves the token and
webhook-registration endpoints and sends real-shaped, signed notifications
(valid, forged, tampered, repeated) to the URL the hub registered.
"""

from __future__ import annotations

import base64
import threading
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal

import pytest
from browser_support import ServerThread
from sqlalchemy import select

from connectors.kiotviet import client as kiotviet_client
from connectors.kiotviet import payloads
from connectors.kiotviet.signature import VARIANTS
from connectors.kiotviet.simulator import KiotVietSimulator
from hub import PermanentError
from hub.merchants.connections import connection_secrets
from hub.models import Connection
from hub.models import Member
from hub.models import MemberIdentity
from hub.models import Order
from hub.models import PointEntry
from hub.testing import make_app
from hub.testing import run_jobs
from webhooks.models import InboxEntry

WEBHOOK_SECRET = "kv-webhook-secret-of-hoa-mai"


@pytest.fixture
def simulator():
    with KiotVietSimulator(retailer="hoamai") as sim:
        sim.delivery_timeout = 60  # inline processing on a busy test machine
        yield sim


@pytest.fixture
def hub_config(simulator):
    return {
        "HUB_ALLOW_PRIVATE_TARGETS": True,  # the simulator listens on loopback
        "HUB_PLUGINS_CONFIG": {
            "kiotviet": {"token_url": simulator.token_url, "api_url": simulator.url}
        },
    }


@pytest.fixture
def live(app, hub):
    server = ServerThread(app)
    hub.config["HUB_PUBLIC_URL"] = server.url
    yield server
    server.stop()


def connect(api, simulator, *, secret=WEBHOOK_SECRET, client_secret=None):
    secrets = {"client_id": simulator.shop.client_id}
    secrets["client_secret"] = client_secret or simulator.shop.client_secret
    if secret:
        secrets["webhook_secret"] = secret
    response = api.post(
        "/api/v1/connections",
        json={
            "connector": "kiotviet",
            "name": "KiotViet Hoa Mai",
            "settings": {"retailer": "hoamai"},
            "secrets": secrets,
        },
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


@pytest.fixture
def shop(api, simulator, live):
    """A KiotViet connection with its webhooks registered at the simulator."""
    connection_id = connect(api, simulator)
    response = api.post(f"/api/v1/kiotviet/connections/{connection_id}/webhooks")
    assert response.status_code == 202, response.json
    return connection_id


def inbox(hub):
    with hub.db.session() as session:
        rows = session.scalars(select(InboxEntry).order_by(InboxEntry.id))
        return [(e.topic, e.status) for e in rows]


def orders(hub):
    with hub.db.session() as session:
        return {o.external_id: o for o in session.scalars(select(Order))}


def ledger_of(hub):
    with hub.db.session() as session:
        return sorted((e.kind, e.points) for e in session.scalars(select(PointEntry)))


def member_by_phone(hub, phone):
    with hub.db.session() as session:
        return session.scalars(select(Member).where(Member.phone == phone)).first()


# -- token and registration -------------------------------------------------------------


def test_registering_webhooks_registers_each_event_with_one_token(api, hub, simulator, live):
    connection_id = connect(api, simulator)

    first = api.post(f"/api/v1/kiotviet/connections/{connection_id}/webhooks")
    again = api.post(f"/api/v1/kiotviet/connections/{connection_id}/webhooks")

    assert (first.status_code, again.status_code) == (202, 202)
    registered = sorted(
        (w["Type"], w["Url"], w["Secret"]) for w in simulator.shop.webhooks.values()
    )
    url = f"{live.url}/webhooks/kiotviet/{connection_id}?noecho"
    secret = base64.b64encode(WEBHOOK_SECRET.encode()).decode()
    assert registered == [
        ("customer.update", url, secret),
        ("invoice.update", url, secret),
        ("order.update", url, secret),
    ]
    assert simulator.shop.token_requests == 1
    status = api.get(f"/api/v1/kiotviet/connections/{connection_id}").json
    assert sorted(status["webhooks"]) == ["customer.update", "invoice.update", "order.update"]
    assert status["has_credentials"] and status["token_expires_at"]
    assert "access_token" not in str(status) and WEBHOOK_SECRET not in str(status)


def test_a_connection_without_a_webhook_secret_gets_one_when_registering(api, hub, simulator, live):
    connection_id = connect(api, simulator, secret=None)

    api.post(f"/api/v1/kiotviet/connections/{connection_id}/webhooks")

    with hub.db.session() as session:
        made = connection_secrets(hub, session.get(Connection, connection_id))["webhook_secret"]
    assert len(made) >= 32
    registered = {w["Secret"] for w in simulator.shop.webhooks.values()}
    assert registered == {base64.b64encode(made.encode()).decode()}


def test_a_token_is_kept_until_it_expires_then_refreshed(api, hub, simulator, shop):
    with hub.db.transaction() as session:
        connection = session.get(Connection, shop)
        secrets = connection_secrets(hub, connection)
        secrets["access_token_expires_at"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        connection.secrets_encrypted = hub.secrets.encrypt(secrets)

    api.post(f"/api/v1/kiotviet/connections/{shop}/webhooks")

    assert simulator.shop.token_requests == 2


def test_a_token_kiotviet_refuses_is_refreshed_once_and_the_call_retried(api, hub, simulator, shop):
    simulator.expire_tokens()

    with hub.app.app_context():
        with hub.db.session() as session:
            connection = session.get(Connection, shop)
        listed = kiotviet_client.call(hub, connection, "GET", "/webhooks")

    assert listed["total"] == 3
    assert simulator.shop.token_requests == 2


@pytest.mark.parametrize("where", ["row lock", "redis lock"])
def test_workers_finding_the_token_stale_at_once_fetch_one(
    api, hub, simulator, database_url, redis_url, redis_prefix, hub_config, where
):
    connection_id = connect(api, simulator)
    simulator.token_delay = 0.3
    target = hub
    if where == "redis lock":
        config = {**hub_config, "HUB_REDIS_URL": redis_url, "HUB_REDIS_PREFIX": redis_prefix}
        target = make_app(database_url, config=config).extensions["hub"]
    tokens, start = [], threading.Barrier(4)

    def worker():
        start.wait()
        with target.app.app_context():
            tokens.append(kiotviet_client.access_token(target, connection_id))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if target is not hub:
        target.db.dispose()

    assert simulator.shop.token_requests == 1
    assert len(tokens) == 4 and len(set(tokens)) == 1


def test_credentials_kiotviet_refuses_fail_for_good(api, hub, simulator, live):
    connection_id = connect(api, simulator, client_secret="wrong")

    with hub.app.app_context(), pytest.raises(PermanentError, match="400"):
        kiotviet_client.access_token(hub, connection_id)


def test_registering_without_a_public_url_fails_with_the_fix(api, hub, simulator):
    connection_id = connect(api, simulator)

    api.post(f"/api/v1/kiotviet/connections/{connection_id}/webhooks")

    assert "HUB_PUBLIC_URL" in hub.jobs.inline_failures[-1]["error"]
    assert simulator.shop.webhooks == {}


def test_only_the_merchants_own_kiotviet_connections_can_be_registered(other_api, api, shop):
    assert other_api.post(f"/api/v1/kiotviet/connections/{shop}/webhooks").status_code == 404
    web = api.post("/api/v1/connections", json={"connector": "api"}).json["id"]
    assert api.get(f"/api/v1/kiotviet/connections/{web}").status_code == 404


# -- notifications ------------------------------------------------------------------------


def test_a_customer_then_an_invoice_earn_points_for_the_member(hub, simulator, shop):
    simulator.notify("customer.update", [payloads.customer(555, phone="0912345678")])
    delivered = simulator.notify("invoice.update", [payloads.invoice(12345678, customer_id=555)])

    assert (delivered.status, delivered.answer["duplicate"]) == (200, False)
    member = member_by_phone(hub, "+84912345678")
    assert (member.name, member.birthday, member.gender) == (
        "Nguyễn Văn A",
        date(1990, 5, 20),
        "male",
    )
    order = orders(hub)["invoice:12345678"]
    assert (order.number, order.member_id, order.financial_status) == (
        "HD345678",
        member.id,
        "paid",
    )
    assert order.total == Decimal(350000)
    assert order.placed_at == datetime(2026, 11, 1, 3, 15, tzinfo=UTC)  # 10:15 in Ho Chi Minh
    assert ledger_of(hub) == [("earn", 350)]
    with hub.db.session() as session:
        identity = session.scalars(select(MemberIdentity)).one()
    assert (identity.connection_id, identity.external_id) == (shop, "555")
    assert inbox(hub) == [("customer.update", "processed"), ("invoice.update", "processed")]


def test_an_invoice_before_its_customer_earns_once_the_customer_arrives(hub, simulator, shop):
    simulator.notify("invoice.update", [payloads.invoice(7, customer_id=555)])
    assert orders(hub)["invoice:7"].member_id is None  # nobody to give the points to yet
    assert ledger_of(hub) == []

    simulator.notify("customer.update", [payloads.customer(555, phone="0912345678")])
    again = simulator.notify("customer.update", [payloads.customer(555, phone="0912345678")])

    assert again.status == 200
    member = member_by_phone(hub, "+84912345678")
    assert orders(hub)["invoice:7"].member_id == member.id
    assert ledger_of(hub) == [("earn", 350)]  # once, however often the customer comes
    assert member.total_spent == Decimal(350000)


def test_a_repeated_notification_is_stored_and_counted_once(hub, simulator, shop):
    simulator.notify("customer.update", [payloads.customer(555)])
    first = simulator.notify("invoice.update", [payloads.invoice(1, customer_id=555)])

    repeat = simulator.resend(first)
    retry = simulator.resend(first, attempt=2)

    assert [d.status for d in (first, repeat, retry)] == [200, 200, 200]
    assert (repeat.answer["duplicate"], retry.answer["duplicate"]) == (True, True)
    assert len(inbox(hub)) == 2
    assert ledger_of(hub) == [("earn", 350)]


def test_the_same_invoice_in_a_new_notification_is_recorded_once(hub, simulator, shop):
    simulator.notify("customer.update", [payloads.customer(555)])
    simulator.notify("invoice.update", [payloads.invoice(1, customer_id=555)])

    again = simulator.notify("invoice.update", [payloads.invoice(1, customer_id=555)])

    assert again.answer["duplicate"] is False
    assert list(orders(hub)) == ["invoice:1"]
    assert ledger_of(hub) == [("earn", 350)]


def test_forged_and_tampered_notifications_answer_401_and_store_nothing(hub, simulator, shop):
    forged = simulator.forge("invoice.update", [payloads.invoice(1)])
    genuine = simulator.notify("customer.update", [payloads.customer(555)])
    tampered = simulator.tamper(genuine, genuine.body.replace(b"0912345678", b"0987654321"))

    assert (forged.status, tampered.status) == (401, 401)
    assert forged.answer["error"]["code"] == "bad_signature"
    assert inbox(hub) == [("customer.update", "processed")]
    assert orders(hub) == {}


def test_a_cancelled_invoice_takes_its_points_back(hub, simulator, shop):
    simulator.notify("customer.update", [payloads.customer(555)])
    simulator.notify("invoice.update", [payloads.invoice(1, customer_id=555)])

    simulator.notify("invoice.update", [payloads.invoice(1, customer_id=555, status=2)])

    assert orders(hub)["invoice:1"].cancelled_at is not None
    assert ledger_of(hub) == [("earn", 350), ("reverse", -350)]


def test_an_invoice_in_progress_earns_nothing_until_completed(hub, simulator, shop):
    simulator.notify("customer.update", [payloads.customer(555)])
    simulator.notify("invoice.update", [payloads.invoice(1, customer_id=555, status=3)])
    assert (orders(hub)["invoice:1"].financial_status, ledger_of(hub)) == ("pending", [])

    simulator.notify("invoice.update", [payloads.invoice(1, customer_id=555, status=1)])

    assert ledger_of(hub) == [("earn", 350)]


def test_a_late_older_notification_leaves_the_invoice_as_the_newer_one_left_it(
    hub, simulator, shop
):
    simulator.notify("customer.update", [payloads.customer(555)])
    done = payloads.invoice(1, customer_id=555, status=1, modified_date="2026-11-01T10:20:00")
    simulator.notify("invoice.update", [done])
    # KiotViet's retry of the earlier "in progress" notification arrives after it.
    late = payloads.invoice(1, customer_id=555, status=3, modified_date="2026-11-01T10:16:00")
    simulator.notify("invoice.update", [late])

    assert orders(hub)["invoice:1"].financial_status == "paid"
    assert ledger_of(hub) == [("earn", 350)]


def test_orders_are_recorded_and_never_earn_their_invoice_does(hub, simulator, shop):
    simulator.notify("customer.update", [payloads.customer(555)])
    simulator.notify("order.update", [payloads.order(7001, status=3)])
    simulator.notify("order.update", [payloads.order(7002, status=4)])

    recorded = orders(hub)
    assert recorded["order:7001"].financial_status == "pending"
    assert recorded["order:7002"].cancelled_at is not None
    assert [(line.sku, line.quantity) for line in recorded["order:7001"].lines] == [("SP002", 4)]
    assert ledger_of(hub) == []


def test_a_walk_in_sale_is_recorded_without_a_member(hub, simulator, shop):
    simulator.notify("invoice.update", [payloads.invoice(9, customer_id=None)])

    assert orders(hub)["invoice:9"].member_id is None
    assert ledger_of(hub) == []


def test_money_is_exact_and_weighed_goods_keep_their_line_total(hub, simulator, shop):
    details = [
        {"ProductId": 3, "ProductCode": "CAM", "ProductName": "Cam sành", "Quantity": 1.5,
         "Price": 45000.1, "Discount": 0},
    ]  # fmt: skip
    simulator.notify("invoice.update", [payloads.invoice(5, total=67500.15, details=details)])

    order = orders(hub)["invoice:5"]
    assert order.total == Decimal("67500.15")
    (line,) = order.lines
    assert (line.quantity, line.price, line.title) == (1, Decimal("67500.15"), "Cam sành x 1.5")


def test_a_notification_the_hub_does_not_handle_is_stored_and_ignored(hub, simulator, shop):
    simulator.shop.webhooks[1] = {
        **next(iter(simulator.shop.webhooks.values())),
        "Id": 1,
        "Type": "product.update",
    }

    delivered = simulator.notify("product.update", [{"Id": 1, "Code": "SP001"}])

    assert delivered.status == 200
    assert inbox(hub)[-1] == ("product.update", "ignored")


def test_a_delete_notification_is_stored_and_ignored(hub, simulator, shop):
    simulator.shop.webhooks[2] = {
        **next(iter(simulator.shop.webhooks.values())),
        "Id": 2,
        "Type": "customer.delete",
    }

    delivered = simulator.notify("customer.delete", {"RemoveId": [555]})

    assert delivered.status == 200
    assert inbox(hub)[-1] == ("customer.delete", "ignored")


def test_an_unreadable_invoice_fails_its_delivery_for_good(hub, simulator, shop):
    broken = payloads.invoice(6)
    del broken["PurchaseDate"]

    delivered = simulator.notify("invoice.update", [broken])

    assert delivered.status == 200  # accepted quickly; the worker finds it unreadable
    with hub.db.session() as session:
        entry = session.scalars(select(InboxEntry)).one()
    assert entry.status == "failed" and "PurchaseDate" in entry.error


# -- signature variants -----------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("prefix", [True, False], ids=["prefixed", "bare-hex"])
def test_each_variant_verifies_and_the_first_to_verify_is_pinned(
    api, hub, simulator, shop, variant, prefix
):
    first = simulator.notify(
        "customer.update", [payloads.customer(1)], variant=variant, prefix=prefix
    )
    others = [
        simulator.notify("customer.update", [payloads.customer(2)], variant=other)
        for other in VARIANTS
        if other != variant
    ]
    same = simulator.notify("customer.update", [payloads.customer(3)], variant=variant)

    assert first.status == 200 and same.status == 200
    assert [d.status for d in others] == [401, 401, 401]
    status = api.get(f"/api/v1/kiotviet/connections/{shop}").json
    assert status["signature_variant"] == variant


def test_forgetting_the_pinned_variant_lets_the_next_good_delivery_pin_again(api, simulator, shop):
    simulator.notify("customer.update", [payloads.customer(1)], variant="sha1:base64")
    assert simulator.notify("customer.update", [payloads.customer(2)]).status == 401

    forgotten = api.delete(f"/api/v1/kiotviet/connections/{shop}/signature-variant")
    repinned = simulator.notify("customer.update", [payloads.customer(2)], variant="sha256:secret")

    assert (forgotten.status_code, repinned.status) == (204, 200)
    status = api.get(f"/api/v1/kiotviet/connections/{shop}").json
    assert status["signature_variant"] == "sha256:secret"


def test_a_forged_first_delivery_pins_nothing(api, simulator, shop):
    simulator.forge("customer.update", [payloads.customer(1)], variant="sha1:secret")

    status = api.get(f"/api/v1/kiotviet/connections/{shop}").json

    assert status["signature_variant"] is None


def test_notifications_go_through_real_rq_workers_once(redis_app, simulator, api_for_redis_app):
    hub = redis_app.extensions["hub"]
    simulator.notify("customer.update", [payloads.customer(555)])
    first = simulator.notify("invoice.update", [payloads.invoice(1, customer_id=555)])
    simulator.resend(first)

    run_jobs(hub)
    simulator.resend(first, attempt=3)
    run_jobs(hub)

    assert [status for _, status in inbox(hub)] == ["processed", "processed"]
    assert ledger_of(hub) == [("earn", 350)]


@pytest.fixture
def api_for_redis_app(redis_app, simulator, hub_config):
    """The shop's KiotViet connection on an app whose jobs go to real rq queues."""
    from hub.testing import ApiClient
    from hub.testing import create_test_merchant

    hub = redis_app.extensions["hub"]
    hub.config["HUB_PLUGINS_CONFIG"] = hub_config["HUB_PLUGINS_CONFIG"]
    hub.config["HUB_ALLOW_PRIVATE_TARGETS"] = True
    server = ServerThread(redis_app)
    hub.config["HUB_PUBLIC_URL"] = server.url
    api = ApiClient(redis_app.test_client(), create_test_merchant(hub, "Hoa Mai"))
    connection_id = connect(api, simulator)
    api.post(f"/api/v1/kiotviet/connections/{connection_id}/webhooks")
    run_jobs(hub)
    assert len(simulator.shop.webhooks) == 3
    yield api
    server.stop()


def test_an_operator_registers_the_webhooks_from_the_command_line(api, runner, simulator, live):
    connection_id = connect(api, simulator)

    result = runner.invoke(args=["kiotviet", "register-webhooks", str(connection_id)])

    assert result.exit_code == 0, result.output
    assert [line.split("\t")[0] for line in result.output.splitlines()] == [
        "customer.update",
        "invoice.update",
        "order.update",
    ]
    failed = runner.invoke(args=["kiotviet", "register-webhooks", "999"])
    assert failed.exit_code != 0 and "no active KiotViet connection" in failed.output


def test_a_birthday_typed_in_the_future_is_dropped_and_the_customer_kept(monkeypatch):
    from connectors.kiotviet import schemas

    monkeypatch.setattr("hub.db.utcnow", lambda: datetime(2030, 6, 1, 12, 0, tzinfo=UTC))
    today_somewhere = schemas.CustomerSchema().load(
        payloads.customer(birth_date="2030-06-02T00:00:00")
    )
    typo = schemas.CustomerSchema().load(payloads.customer(birth_date="2030-06-03T00:00:00"))

    assert schemas.customer(today_somewhere).birthday == date(2030, 6, 2)
    kept = schemas.customer(typo)
    assert kept.birthday is None
    assert kept.phone == "0912345678"
