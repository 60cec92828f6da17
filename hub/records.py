"""Apply canonical records a connector read from its platform, whatever brought them.

Webhook deliveries, backfills and reconciliation jobs all end here, so an
order is recorded the same way however it arrived. Each canonical record type
has one handler; a new record type (an uninstall, a privacy request) adds its
handler with ``@handles``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from hub.canonical import Customer
from hub.canonical import Order
from hub.canonical import Refund
from hub.errors import PermanentError
from hub.orders import record_order
from hub.orders import record_refund

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
    return hub.pm.hook.member_for_customer(
        hub=hub,
        session=session,
        merchant_id=connection.merchant_id,
        connection_id=connection.id,
        customer=record,
    )
