"""Apply canonical records a connector read from its platform, whatever brought them.

Webhook deliveries, backfills and reconciliation jobs all end here, so an
order is recorded the same way however it arrived. Each canonical record type
has one handler; a new record type (an uninstall, a privacy request) adds its
handler with ``@handles``. This module imports no handler module: a module
that registers handlers imports this one, and ``hub/__init__.py`` imports it
(``hub.privacy``), so every handler is in place before any record arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import select

from hub import audit
from hub.canonical import ConnectionUninstalled
from hub.canonical import Customer
from hub.canonical import Order
from hub.canonical import Refund
from hub.canonical import VoucherUse
from hub.errors import Conflict
from hub.errors import NotFound
from hub.errors import PermanentError
from hub.orders.batches import record_order
from hub.orders.recording import record_refund

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hub.core import Hub
    from hub.models import Connection

Handler = Callable[["Hub", "Session", "Connection", Any], Any]
_HANDLERS: dict[type, Handler] = {}


def handles(record_type: type) -> Callable[[Handler], Handler]:
    """Register the function that applies records of ``record_type``."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[record_type] = handler
        return handler

    return register


def apply_record(hub: Hub, session: Session, connection: Connection, record: Any) -> Any:
    """Apply one record for the connection's merchant, inside the caller's transaction.

    :raise PermanentError: the record is of a type no handler knows.
    """
    handler = _HANDLERS.get(type(record))
    if handler is None:
        known = ", ".join(sorted(t.__name__ for t in _HANDLERS))
        raise PermanentError(
            f"the {connection.connector} connector returned a {type(record).__name__}; "
            f"records it may return: {known}"
        )
    return handler(hub, session, connection, record)


@handles(Order)
def _order(hub: Hub, session: Session, connection: Connection, record: Order) -> Any:
    return record_order(hub, session, connection.merchant_id, record, connection_id=connection.id)


@handles(Refund)
def _refund(hub: Hub, session: Session, connection: Connection, record: Refund) -> Any:
    return record_refund(hub, session, connection.merchant_id, record, connection_id=connection.id)


@handles(Customer)
def _customer(hub: Hub, session: Session, connection: Connection, record: Customer) -> Any:
    member = hub.pm.hook.member_for_customer(
        hub=hub,
        session=session,
        merchant_id=connection.merchant_id,
        connection_id=connection.id,
        customer=record,
    )
    if member is not None and record.external_id:
        _claim_waiting_orders(hub, session, connection, record.external_id, member)
    return member


def _claim_waiting_orders(
    hub: Hub, session: Session, connection: Connection, external_id: str, member: Any
) -> None:
    """Orders that named this customer before the hub knew them now belong to the member.

    A POS or store may send a sale (naming its customer by id alone) before the
    customer record itself; the order was stored without a member. Once the
    customer is known, those orders earn, exactly once, as if they had
    arrived in the right order.
    """
    from hub.models import Order as OrderRow
    from hub.points.accrual import sync_order

    waiting = session.scalars(
        select(OrderRow)
        .where(
            OrderRow.merchant_id == connection.merchant_id,
            OrderRow.connection_id == connection.id,
            OrderRow.member_id.is_(None),
            OrderRow.customer["external_id"].as_string() == external_id,
        )
        .order_by(OrderRow.id)
        .with_for_update()
    ).all()
    for order in waiting:
        order.member_id = member.id
        session.flush()
        sync_order(hub, session, order)
        log.info(
            "order %s of connection %s claimed by member %s", order.id, connection.id, member.id
        )


@handles(VoucherUse)
def _voucher_use(hub: Hub, session: Session, connection: Connection, record: VoucherUse) -> Any:
    """Burn the hub's voucher an order of this connection used; other codes change nothing."""
    from hub.models import Order as OrderRow
    from hub.orders.recording import source_for
    from hub.rewards.vouchers import use_voucher

    order = session.scalars(
        select(OrderRow).where(
            OrderRow.merchant_id == connection.merchant_id,
            OrderRow.source == source_for(connection.id, None),
            OrderRow.external_id == record.order_external_id,
        )
    ).first()
    if order is None:
        return None
    try:
        return use_voucher(
            session,
            connection.merchant_id,
            record.code,
            order_id=order.id,
            actor=f"connection:{connection.id}",
        )
    except NotFound:
        return None  # the store's own code, not one the hub issued
    except Conflict as exc:
        # Used on another order (or cancelled) already: the store let it through; say so.
        log.warning("connection %s order %s: %s", connection.id, order.external_id, exc.message)
        return None


@handles(ConnectionUninstalled)
def _uninstalled(
    hub: Hub, session: Session, connection: Connection, record: ConnectionUninstalled
) -> Any:
    """Disable the connection and drop its access token: every outgoing call stops."""
    secrets = hub.secrets.decrypt(connection.secrets_encrypted)
    secrets.pop("access_token", None)
    secrets.pop("refresh_token", None)
    connection.secrets_encrypted = hub.secrets.encrypt(secrets)
    if connection.status == "active":
        connection.status = "disabled"
    connection.settings = {**(connection.settings or {}), "uninstalled": True}
    audit.record(
        session,
        connection.merchant_id,
        actor=f"connection:{connection.id}",
        action="connection.uninstalled",
        object_type="connection",
        object_id=connection.id,
        data={"reason": record.reason},
    )
    return connection
