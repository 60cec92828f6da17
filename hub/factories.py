"""Make test data through the hub's own services: merchants, members, orders, connections.

Each factory takes the ``hub`` and a merchant id, writes in a transaction of
its own and answers the stored row (or the merchant's key), so a test says
what it needs in one line and the data is exactly what the API or a
connector would have written: the same checks, the same events.
``hub.testing`` gives them as the ``make`` fixture, bound to the test's hub.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from hub.canonical import Customer
from hub.canonical import Order
from hub.canonical import OrderLine

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.models import Connection
    from hub.models import Member
    from hub.models import Order as OrderRow

_numbers = itertools.count(1001)


@dataclass
class TestMerchant:
    """A merchant made for a test, with a working API key."""

    id: int
    api_key: str

    __test__ = False  # not a test class, despite the name

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def create_test_merchant(hub: Hub, name: str = "Test shop") -> TestMerchant:
    """Make a merchant and an API key for it."""
    from hub.merchants.accounts import create_api_key
    from hub.merchants.accounts import create_merchant

    with hub.db.transaction() as session:
        merchant = create_merchant(session, name)
        key = create_api_key(session, merchant.id, name="test")
    return TestMerchant(id=merchant.id, api_key=key.secret)


def make_member(
    hub: Hub,
    merchant_id: int,
    *,
    phone: str | None = "0912345678",
    name: str = "Nguyễn Thị Lan",
    **fields: Any,
) -> Member:
    """Make a member as ``POST /api/v1/members`` does; ``fields`` are the API's
    (``email``, ``birthday``, ``tags``, ``consents``...)."""
    from hub.members.directory import create_member

    data = {"name": name, **fields}
    if phone is not None:
        data["phone"] = phone
    with hub.db.transaction() as session:
        return create_member(
            session, merchant_id, data, region=hub.config.get("HUB_DEFAULT_REGION", "VN")
        )


def order_for(
    total: str | int | Decimal = "250000",
    *,
    phone: str | None = "0912345678",
    external_id: str | None = None,
    status: str = "paid",
    placed_at: datetime | None = None,
    currency: str = "VND",
    **fields: Any,
) -> Order:
    """A canonical ``Order`` of one line, as a store connector would read it."""
    amount = Decimal(str(total))
    moment = placed_at or datetime.now(UTC)
    return Order(
        external_id=external_id or str(next(_numbers)),
        currency=currency,
        subtotal=amount,
        total=amount,
        financial_status=status,
        placed_at=moment,
        paid_at=moment if status == "paid" else None,
        lines=(OrderLine(quantity=1, price=amount, title="Sản phẩm"),),
        customer=Customer(phone=phone, name="Lan") if phone else None,
        **fields,
    )


def make_order(
    hub: Hub,
    merchant_id: int,
    total: str | int | Decimal = "250000",
    *,
    connection_id: int | None = None,
    source: str = "test",
    now: datetime | None = None,
    **order_fields: Any,
) -> OrderRow:
    """Record an order (``hub.record_order``): its member is found or made, its points
    earned when paid. ``order_fields`` go to ``order_for`` (``phone``, ``status``...)."""
    from hub.orders.batches import record_order

    order = order_for(total, **order_fields)
    with hub.db.transaction() as session:
        recorded = record_order(
            hub,
            session,
            merchant_id,
            order,
            connection_id=connection_id,
            source=None if connection_id else source,
            now=now,
        )
        return recorded.order


def make_connection(
    hub: Hub,
    merchant_id: int,
    connector: str,
    *,
    settings: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    name: str = "",
) -> Connection:
    """Make a connection to a registered connector, as ``POST /api/v1/connections``
    does: the merchant's settings and secrets are checked by the connector's schemas."""
    from hub.merchants.connections import create_connection

    with hub.db.transaction() as session:
        return create_connection(
            hub,
            session,
            merchant_id,
            connector=connector,
            name=name,
            settings=settings,
            secrets=secrets,
            actor="test",
        )


class Factories:
    """The factories bound to one hub and, by default, one merchant (the ``make`` fixture).

    ``make.member(phone="0987654321")``, ``make.order(300000)``,
    ``make.connection("pigeon", settings=..., secrets=...)``, ``make.merchant("Shop 2")``;
    pass ``merchant_id=`` to make one for another merchant.
    """

    def __init__(self, hub: Hub, merchant_id: int) -> None:
        self.hub = hub
        self.merchant_id = merchant_id

    def merchant(self, name: str = "Test shop") -> TestMerchant:
        return create_test_merchant(self.hub, name)

    def member(self, *, merchant_id: int | None = None, **fields: Any) -> Member:
        return make_member(self.hub, merchant_id or self.merchant_id, **fields)

    def order(
        self,
        total: str | int | Decimal = "250000",
        *,
        merchant_id: int | None = None,
        **fields: Any,
    ) -> OrderRow:
        return make_order(self.hub, merchant_id or self.merchant_id, total, **fields)

    def connection(self, connector: str, *, merchant_id: int | None = None, **fields: Any):
        return make_connection(self.hub, merchant_id or self.merchant_id, connector, **fields)
