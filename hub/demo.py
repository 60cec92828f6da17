"""``hub demo``: a demo shop with a program, tiers, rewards, members and their orders.

Everything goes through the same services a real shop uses (program versions,
the order path with its earning rules, tiers, the reward catalog), so the demo
shows the product as it is. Seeding twice finds the demo shop and changes nothing.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from flask import Blueprint
from flask import Response
from flask import abort
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from sqlalchemy import select

from hub.canonical import Customer
from hub.canonical import Order
from hub.canonical import OrderLine
from hub.db import utcnow
from hub.errors import HubError
from hub.merchants.accounts import create_api_key
from hub.merchants.accounts import create_merchant
from hub.merchants.connections import connection_secrets
from hub.merchants.connections import create_connection
from hub.models import Connection
from hub.models import Member
from hub.models import Merchant
from hub.orders.batches import record_order
from hub.points.program import program_rules
from hub.points.program import save_program
from hub.referrals.terms import save_terms
from hub.rewards.catalog import create_reward
from hub.tiers.ladder import create_tier
from hub.widget.tokens import new_widget_secret
from hub.widget.tokens import sign_visitor

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from hub.core import Hub

DEMO_SHOP = "Trà Sen (demo)"
#: The demo store's own account pages, as a real store's theme has them.
DEMO_LINKS = {
    "join_url": "/demo/store/account/register",
    "sign_in_url": "/demo/store/account/login",
    "referral_url": "/demo/store?ref={code}",
}
#: The cookie the demo store keeps its signed-in customer in (a real store has its own).
CUSTOMER_COOKIE = "demo_store_customer"
LOCALE_COOKIE = "demo_store_locale"
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi"]
MIDDLE = ["Thị", "Văn", "Ngọc", "Minh", "Thu", "Hữu", "Thanh", "Quốc", "Bảo"]
GIVEN = [
    "Lan",
    "Hương",
    "Minh",
    "Tuấn",
    "Hà",
    "Linh",
    "Nam",
    "Mai",
    "Dũng",
    "Trang",
    "Phúc",
    "Anh",
    "Khoa",
    "Vy",
    "Quân",
    "Thảo",
    "Long",
    "Ngân",
    "Hải",
    "Yến",
]
PROVINCES = ["Hồ Chí Minh", "Hà Nội", "Đà Nẵng", "Cần Thơ", "Hải Phòng", "Khánh Hòa"]
PRODUCTS = [
    ("TEA-LOTUS", "Trà sen Tây Hồ", 180000),
    ("TEA-JASMINE", "Trà lài", 95000),
    ("TEA-OOLONG", "Trà ô long", 240000),
    ("CUP-01", "Ly sứ men lam", 120000),
    ("SET-GIFT", "Hộp quà Tết", 650000),
]
PROGRAM = {
    "earn_rate": {"amount": "1000", "points": 1},
    "rounding": "floor",
    "pending_days": 0,
    "expiry": {"policy": "days", "days": 365},
    "rules": {"birthday": {"multiplier": 2}},
}
TIERS = [
    ("Đồng", "0", "1", "Tích 1 điểm cho mỗi 1.000đ."),
    ("Bạc", "2000000", "1.2", "Nhân 1,2 điểm; quà sinh nhật."),
    ("Vàng", "5000000", "1.5", "Nhân 1,5 điểm; miễn phí giao hàng."),
    ("Kim Cương", "15000000", "2", "Nhân đôi điểm; ưu tiên sản phẩm mới."),
]
REWARDS = [
    {
        "name": "Giảm 20.000đ",
        "kind": "amount_off",
        "value": Decimal(20000),
        "points_cost": 200,
        "validity_days": 30,
    },
    {
        "name": "Miễn phí giao hàng",
        "kind": "free_shipping",
        "points_cost": 300,
        "max_discount": Decimal(30000),
        "validity_days": 30,
    },
    {
        "name": "Giảm 50.000đ",
        "kind": "amount_off",
        "value": Decimal(50000),
        "points_cost": 500,
        "validity_days": 60,
    },
    {
        "name": "Giảm 10% (tối đa 100.000đ)",
        "kind": "percent_off",
        "value": Decimal(10),
        "max_discount": Decimal(100000),
        "points_cost": 800,
        "validity_days": 60,
    },
    {
        "name": "Tặng ly sứ men lam",
        "kind": "free_product",
        "product_sku": "CUP-01",
        "points_cost": 1200,
        "validity_days": 90,
    },
]


#: The demo's referral terms: both sides earn points a week after the friend pays.
REFERRALS = {
    "enabled": True,
    "referrer": {"points": 200, "reward_id": None},
    "friend": {"points": 100, "reward_id": None},
    "hold_days": 7,
    "monthly_limit": 10,
}


@dataclass(frozen=True)
class DemoShop:
    merchant_id: int
    connection_id: int
    api_key: str | None
    members: int
    created: bool


def seed_demo(
    hub: Hub, *, members: int = 300, progress: Callable[[int], None] = lambda n: None
) -> DemoShop:
    """Create the demo shop, or find it when it exists already."""
    with hub.db.session() as session:
        merchant = session.scalars(select(Merchant).where(Merchant.name == DEMO_SHOP)).first()
        if merchant is not None:
            connection = _storefront(session, merchant.id)
            return DemoShop(merchant.id, connection.id, None, members, created=False)
    with hub.db.transaction() as session:
        merchant = create_merchant(session, DEMO_SHOP)
        key = create_api_key(session, merchant.id, name="demo")
        # Only the rules of earning plugins that are installed and switched on.
        offered = program_rules(hub)
        rules = {k: v for k, v in PROGRAM["rules"].items() if k in offered}
        save_program(hub, session, merchant.id, {**PROGRAM, "rules": rules}, actor="demo")
        for position, (name, threshold, multiplier, benefits) in enumerate(TIERS):
            create_tier(
                session,
                merchant.id,
                {
                    "name": name,
                    "threshold": Decimal(threshold),
                    "basis": "spend",
                    "window": "rolling_12m",
                    "earn_multiplier": Decimal(multiplier),
                    "benefits": benefits,
                    "position": position,
                },
                actor="demo",
            )
        for reward in REWARDS:
            create_reward(session, merchant.id, dict(reward), actor="demo")
        save_terms(session, merchant.id, REFERRALS, actor="demo")
        connection = create_connection(
            hub,
            session,
            merchant.id,
            connector="api",
            name="Demo storefront",
            settings=DEMO_LINKS,
            secrets={"widget_secret": new_widget_secret()},
            actor="demo",
        )
        merchant_id, connection_id = merchant.id, connection.id
    _seed_members(hub, merchant_id, connection_id, members, progress)
    return DemoShop(merchant_id, connection_id, key.secret, members, created=True)


def _seed_members(hub: Hub, merchant_id: int, connection_id: int, count: int, progress) -> None:
    rng = random.Random(20261123)
    now = utcnow()
    for n in range(1, count + 1):
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        customer = Customer(
            external_id=f"demo-{n}",
            phone=f"09{rng.randint(10_000_000, 99_999_999)}",
            email=f"khach{n}@example.vn",
            name=name,
            accepts_marketing={"sms": rng.random() < 0.6, "zalo": rng.random() < 0.4},
        )
        orders = rng.choice([1, 1, 2, 3, 4, 6, 9]) if n > 1 else 12
        with hub.db.transaction() as session:
            for k in range(orders):
                placed = now - timedelta(days=rng.randint(1, 360), minutes=rng.randint(0, 1440))
                lines = tuple(
                    OrderLine(
                        sku=sku, title=title, quantity=rng.randint(1, 3), price=Decimal(price)
                    )
                    for sku, title, price in rng.sample(PRODUCTS, rng.randint(1, 3))
                )
                total = sum((line.price * line.quantity for line in lines), Decimal(0))
                order = Order(
                    external_id=f"demo-{n}-{k}",
                    number=f"#{1000 + n * 20 + k}",
                    currency="VND",
                    subtotal=total,
                    total=total,
                    financial_status="paid",
                    placed_at=placed,
                    paid_at=placed,
                    lines=lines,
                    customer=customer,
                )
                record_order(hub, session, merchant_id, order, connection_id=connection_id)
        progress(1)


DEMO_TILL = "Demo till"


@dataclass(frozen=True)
class DemoCounter:
    connection_id: int
    cashier_path: str
    till_key: str


def demo_counter(hub: Hub, merchant_id: int) -> DemoCounter | None:
    """The demo's counter (a POS connection) with a fresh till key; None without the POS plugin.

    Each run revokes the demo till's earlier key and makes a new one, through the
    connector's key methods (those of the console and ``/api/v1/pos``): a key is
    shown once, so a run that prints a way in makes one.
    """
    connector = hub.connectors.get("pos")
    if connector is None:
        return None
    with hub.db.transaction() as session:
        connection = session.scalars(
            select(Connection)
            .where(Connection.merchant_id == merchant_id, Connection.connector == "pos")
            .order_by(Connection.id)
        ).first()
        if connection is None:
            connection = create_connection(
                hub, session, merchant_id, connector="pos", name="Quầy Demo", actor="demo"
            )
        for key in connector.access_keys(hub, session, connection) or []:
            if key.name == DEMO_TILL and key.revoked_at is None:
                connector.revoke_access_key(hub, session, connection, key.id, "demo")
        issued = connector.issue_access_key(hub, session, connection, DEMO_TILL, "demo")
        path = connector.device_url(hub, connection) or ""
        return DemoCounter(connection.id, path, issued.secret)


DEMO_OWNER = "owner@demo.hub.invalid"


def demo_owner_link(hub: Hub, merchant_id: int) -> str:
    """A fresh one-time sign-in token for the demo shop's owner (created the first time)."""
    from hub.merchants.staff import create_staff_user
    from hub.merchants.staff import issue_link
    from hub.models import StaffUser

    with hub.db.transaction() as session:
        owner = session.scalars(select(StaffUser).where(StaffUser.email == DEMO_OWNER)).first()
        if owner is None:
            owner = create_staff_user(
                session, merchant_id, DEMO_OWNER, "owner", name="Chủ cửa hàng", actor="demo"
            )
        return issue_link(session, owner, "sign_in")


bp = Blueprint("demo", __name__, template_folder="templates")


def _storefront(session: Session, merchant_id: int) -> Connection | None:
    """The demo storefront's connection: the ``api`` one holding the widget secret (the
    demo's counter is a second connection of the same shop)."""
    return session.scalars(
        select(Connection)
        .where(Connection.merchant_id == merchant_id, Connection.connector == "api")
        .order_by(Connection.id)
    ).first()


def _demo_connection(hub: Hub) -> Connection:
    with hub.db.session() as session:
        merchant = session.scalars(select(Merchant).where(Merchant.name == DEMO_SHOP)).first()
        if merchant is None:
            abort(404)
        connection = _storefront(session, merchant.id)
        if connection is None:
            abort(404)
        session.expunge(connection)
        return connection


@bp.get("/demo/store")
def store():
    """A sample storefront page embedding the widget, as a merchant's theme would."""
    from hub.core import current_hub

    hub = current_hub()
    connection = _demo_connection(hub)
    secret = connection_secrets(hub, connection)["widget_secret"]
    customer = request.args.get("customer") or request.cookies.get(CUSTOMER_COOKIE)
    # A real store signs this on its server, for the signed-in customer only.
    token = sign_visitor(customer, secret) if customer else ""
    locale = _locale()
    response = make_response(
        render_template(
            "demo_store.html",
            connection_id=connection.id,
            token=token,
            customer=customer,
            locale=locale,
            products=PRODUCTS,
        )
    )
    # The store's own pages (sign-up, sign-in) keep the language the shopper chose.
    response.set_cookie(LOCALE_COOKIE, locale, samesite="Lax")
    return response


def _locale() -> str:
    chosen = request.values.get("locale") or request.cookies.get(LOCALE_COOKIE)
    return "en" if chosen == "en" else "vi"


def _signed_in(customer: str) -> Response:
    """Back to the store page, signed in as ``customer`` (the store's own session)."""
    response = redirect(url_for("demo.store", locale=_locale()))
    response.set_cookie(CUSTOMER_COOKIE, customer, httponly=True, samesite="Lax")
    return response


@bp.route("/demo/store/account/register", methods=["GET", "POST"])
def register():
    """The demo store's sign-up: the new customer reaches the hub as a store's customer does."""
    from hub.core import current_hub
    from hub.records import apply_record

    hub = current_hub()
    if request.method == "GET":
        return render_template("demo_account.html", mode="register", locale=_locale(), error=None)
    phone, email = request.form.get("phone", "").strip(), request.form.get("email", "").strip()
    if not phone and not email:
        return render_template(
            "demo_account.html", mode="register", locale=_locale(), error="missing"
        ), 422
    customer = f"web-{secrets.token_hex(6)}"
    connection = _demo_connection(hub)
    record = Customer(
        external_id=customer,
        phone=phone or None,
        email=email or None,
        name=request.form.get("name", "").strip() or None,
    )
    try:
        with hub.db.transaction() as session:
            apply_record(hub, session, session.merge(connection, load=False), record)
    except HubError:
        return render_template(
            "demo_account.html", mode="register", locale=_locale(), error="invalid"
        ), 422
    return _signed_in(customer)


@bp.route("/demo/store/account/login", methods=["GET", "POST"])
def login():
    """The demo store's sign-in: by the phone or email a customer registered with."""
    from hub.core import current_hub

    hub = current_hub()
    if request.method == "GET":
        return render_template("demo_account.html", mode="login", locale=_locale(), error=None)
    connection = _demo_connection(hub)
    customer = _customer_by_contact(hub, connection, request.form.get("contact", ""))
    if customer is None:
        return render_template(
            "demo_account.html", mode="login", locale=_locale(), error="unknown"
        ), 404
    return _signed_in(customer)


@bp.get("/demo/store/account/logout")
def logout():
    response = redirect(url_for("demo.store", locale=_locale()))
    response.delete_cookie(CUSTOMER_COOKIE)
    return response


def _customer_by_contact(hub: Hub, connection: Connection, contact: str) -> str | None:
    """The store's customer id of the member with this phone or email, on the demo store."""
    from hub.members.directory import identities_of
    from hub.phones import phone_or_none

    contact = contact.strip()
    if not contact:
        return None
    phone = phone_or_none(contact)
    with hub.db.session() as session:
        where = Member.phone == phone if phone else Member.email == contact.lower()
        member = session.scalars(
            select(Member).where(Member.merchant_id == connection.merchant_id, where)
        ).first()
        if member is None:
            return None
        for identity in identities_of(session, member.id):
            if identity.connection_id == connection.id:
                return identity.external_id
    return None
