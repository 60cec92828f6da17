"""Privacy requests from stores: erase a customer, export their data, purge a store.

Store platforms relay their customers' and merchants' privacy requests
(Shopify's mandatory ``customers/redact``, ``customers/data_request`` and
``shop/redact`` topics). Connectors turn them into the canonical
``CustomerRedaction``, ``CustomerDataRequest`` and ``ShopRedaction`` records;
the handlers here apply them for any connector, in the caller's transaction,
and write an audit record of each (ids only, never the personal data).

- A redaction erases the member (``hub.members.directory.erase_member``): the ledger and
  the orders stay, anonymous, so balances and reports still add up; the
  stored customer details of the member's orders from that store are wiped.
- A data request builds a JSON export of what the hub holds about the
  member and hands it to the merchant as the ``member.data_requested`` event
  (their webhook endpoints receive it; the event row keeps it).
- A shop redaction removes the store's customer ids and wipes the customer
  details of the store's orders; members stay, anonymous to that store.

Every handler is idempotent: a redelivered request changes nothing more.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import delete
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from hub import audit
from hub.canonical import Customer
from hub.canonical import CustomerDataRequest
from hub.canonical import CustomerRedaction
from hub.canonical import ShopRedaction
from hub.events import emit
from hub.members.directory import consents_of
from hub.members.directory import erase_member
from hub.members.directory import identities_of
from hub.models import Member
from hub.models import MemberIdentity
from hub.models import Order
from hub.models import PointEntry
from hub.models.rewards import Voucher
from hub.phones import normalize_email
from hub.phones import normalize_phone
from hub.records import handles

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hub.core import Hub
    from hub.models import Connection

log = logging.getLogger(__name__)

#: The event a data request's export travels in.
DATA_REQUESTED = "member.data_requested"


def find_member(
    hub: Hub, session: Session, connection: Connection, customer: Customer
) -> Member | None:
    """Return the merchant's member a store's customer names, erased or not, or None.

    Looks by the connection's customer id first, then the email, then the phone.
    """
    if customer.external_id:
        member = session.scalars(
            select(Member)
            .join(MemberIdentity, MemberIdentity.member_id == Member.id)
            .where(
                MemberIdentity.connection_id == connection.id,
                MemberIdentity.external_id == str(customer.external_id),
            )
        ).first()
        if member is not None:
            return member
    region = hub.config.get("HUB_DEFAULT_REGION", "VN")
    clauses = []
    if customer.email:
        clauses.append(Member.email == normalize_email(customer.email))
    if customer.phone:
        try:
            clauses.append(Member.phone == normalize_phone(customer.phone, region))
        except Exception:  # a phone the hub cannot read names nobody here
            log.info("privacy request on connection %s: unreadable phone", connection.id)
    if not clauses:
        return None
    return session.scalars(
        select(Member).where(
            Member.merchant_id == connection.merchant_id,
            Member.status == "active",
            or_(*clauses),
        )
    ).first()


def _wipe_orders(session: Session, connection: Connection, *conditions: Any) -> int:
    """Empty the stored customer details of the connection's orders matching ``conditions``."""
    result = session.execute(
        update(Order)
        .where(Order.connection_id == connection.id, *conditions)
        .values(customer={})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


@handles(CustomerRedaction)
def redact_customer(
    hub: Hub, session: Session, connection: Connection, record: CustomerRedaction
) -> Member | None:
    """Erase the customer's member and wipe their orders' customer details from this store."""
    member = find_member(hub, session, connection, record.customer)
    orders = 0
    if record.order_external_ids:
        orders += _wipe_orders(
            session, connection, Order.external_id.in_([str(i) for i in record.order_external_ids])
        )
    if member is not None:
        orders += _wipe_orders(session, connection, Order.member_id == member.id)
        if member.status != "erased":
            erase_member(session, member, actor=f"connection:{connection.id}", reason="redacted")
    audit.record(
        session,
        connection.merchant_id,
        actor=f"connection:{connection.id}",
        action="privacy.customer_redacted",
        object_type="member",
        object_id=member.id if member else "",
        data={
            "request_id": record.request_id,
            "connection_id": connection.id,
            "member_found": member is not None,
            "orders_wiped": orders,
        },
    )
    return member


@handles(CustomerDataRequest)
def export_customer(
    hub: Hub, session: Session, connection: Connection, record: CustomerDataRequest
) -> dict[str, Any]:
    """Build the export of what the hub holds about the customer; emit it to the merchant."""
    member = find_member(hub, session, connection, record.customer)
    export = member_export(session, member) if member is not None else None
    data = {
        "request_id": record.request_id,
        "connection_id": connection.id,
        "member_id": member.id if member else None,
        "customer_external_id": record.customer.external_id,
        "export": export,
    }
    emit(session, DATA_REQUESTED, connection.merchant_id, data)
    audit.record(
        session,
        connection.merchant_id,
        actor=f"connection:{connection.id}",
        action="privacy.data_requested",
        object_type="member",
        object_id=member.id if member else "",
        data={
            "request_id": record.request_id,
            "connection_id": connection.id,
            "member_found": member is not None,
        },
    )
    log.info(
        "data request %s on connection %s: export sent as %s (member %s)",
        record.request_id,
        connection.id,
        DATA_REQUESTED,
        member.id if member else "not found",
    )
    return data


_PROFILE = (
    "id", "code", "phone", "email", "name", "birthday", "gender", "province", "district", "ward",
    "address", "tags", "attributes", "points_balance", "total_spent", "status", "created_at",
)  # fmt: skip
_ORDER = ("external_id", "number", "total", "currency", "financial_status", "placed_at", "customer")
_ENTRY = ("kind", "points", "note", "created_at")
_VOUCHER = ("code", "status", "reward_name", "issued_at", "used_at")


def _fields(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(row, name, None)) for name in names}


def member_export(session: Session, member: Member) -> dict[str, Any]:
    """Return everything the hub holds about one member, as JSON-ready values."""
    orders = session.scalars(
        select(Order).where(Order.member_id == member.id).order_by(Order.placed_at, Order.id)
    )
    entries = session.scalars(
        select(PointEntry).where(PointEntry.member_id == member.id).order_by(PointEntry.id)
    )
    vouchers = session.scalars(
        select(Voucher).where(Voucher.member_id == member.id).order_by(Voucher.id)
    )
    return {
        "member": _fields(member, _PROFILE),
        "identities": [
            {"connection_id": i.connection_id, "external_id": i.external_id}
            for i in identities_of(session, member.id)
        ],
        "consents": [
            _fields(c, ("channel", "granted", "changed_at"))
            for c in consents_of(session, member.id)
        ],
        "orders": [_fields(o, _ORDER) for o in orders],
        "points": [_fields(e, _ENTRY) for e in entries],
        "vouchers": [_fields(v, _VOUCHER) for v in vouchers],
    }


@handles(ShopRedaction)
def redact_shop(
    hub: Hub, session: Session, connection: Connection, record: ShopRedaction
) -> dict[str, int]:
    """Forget the store: its customer ids, its orders' customer details and its credentials."""
    identities = session.execute(
        delete(MemberIdentity)
        .where(MemberIdentity.connection_id == connection.id)
        .execution_options(synchronize_session=False)
    )
    orders = _wipe_orders(session, connection)
    connection.secrets_encrypted = hub.secrets.encrypt({})
    settings = dict(connection.settings or {})
    settings["redacted"] = True
    connection.settings = settings
    if connection.status == "active":
        connection.status = "disabled"
    counts = {"identities_removed": identities.rowcount or 0, "orders_wiped": orders}
    audit.record(
        session,
        connection.merchant_id,
        actor=f"connection:{connection.id}",
        action="privacy.shop_redacted",
        object_type="connection",
        object_id=connection.id,
        data={"shop": record.shop, **counts},
    )
    return counts


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | bool | list | dict):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
