"""Sales at the counter: record once per receipt, redeem points on them, void, refund.

A sale becomes a canonical order of the POS connection whose external id is
the receipt number, recorded through ``record_order``, so it earns, is
reversed and counts towards tiers like any store's order. A POS that was
offline sends its backlog later: each receipt is recorded once however often
it comes, and the time of sale (not the time it arrived) is the time the
points are written at, so their expiry runs from the sale.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from connectors.pos.members import Lookup
from connectors.pos.members import find
from connectors.pos.members import read_lookup
from connectors.pos.models import PosSale
from connectors.pos.redemption import discount_for_points
from hub import Conflict
from hub import Customer
from hub import Member
from hub import NotFound
from hub import Order
from hub import OrderLine
from hub import PointEntry
from hub import Refund
from hub import ValidationError
from hub import debit_points
from hub import give_back_points
from hub import lock_member
from hub import record_order
from hub import record_refund
from hub import utcnow

if TYPE_CHECKING:
    from connectors.pos.keys import Counter
    from hub import Hub

#: Customer ids of POS orders name the hub member the counter identified.
MEMBER_REF = "hub-member:"
#: Amounts the hub stores have 16 digits before the decimal point.
LARGEST_AMOUNT = Decimal(10) ** 16
#: A till's clock may run this far ahead of the hub's before a sale is refused.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class SaleIn:
    """A sale as the counter sends it (loaded by ``SaleSchema``)."""

    receipt: str
    sold_at: datetime
    total: Decimal
    subtotal: Decimal | None = None
    discount: Decimal = Decimal(0)
    currency: str | None = None
    lines: tuple[OrderLine, ...] = ()
    member_code: str | None = None
    phone: str | None = None
    redeem_points: int = 0
    discount_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SaleResult:
    sale: PosSale
    created: bool
    points_earned: int
    member: Member | None


def fingerprint(sale: SaleIn) -> str:
    """A digest of what the sale says, to tell a retry from another sale on the same receipt."""
    data = _plain(dataclasses.asdict(sale))
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _claim_receipt(session: Session, counter: Counter, sale: SaleIn, digest: str) -> int | None:
    """Insert the sale's row first; None when the receipt is already there (or being written).

    On PostgreSQL a second transaction inserting the same receipt waits here
    for the first to commit, then finds the row; on SQLite write transactions
    take turns from their first statement.
    """
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    statement = (
        dialect.insert(PosSale)
        .values(
            merchant_id=counter.merchant_id,
            connection_id=counter.connection_id,
            receipt=sale.receipt,
            fingerprint=digest,
            sold_at=sale.sold_at,
            points_redeemed=0,
            points_discount=Decimal(0),
            order_data={},
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["connection_id", "receipt"])
        .returning(PosSale.id)
    )
    return session.execute(statement).scalar_one_or_none()


def check_receipt(receipt: str) -> str:
    """Return a receipt number from a URL, or raise NotFound for one no sale can have."""
    if not 0 < len(receipt) <= 64 or any(ord(c) < 32 or ord(c) == 127 for c in receipt):
        raise NotFound(f"no sale with receipt {receipt[:64]!r}", code="receipt_not_found")
    return receipt


def sale_by_receipt(
    session: Session, counter: Counter, receipt: str, *, lock: bool = False
) -> PosSale:
    check_receipt(receipt)
    query = select(PosSale).where(
        PosSale.connection_id == counter.connection_id, PosSale.receipt == receipt
    )
    if lock:
        query = query.with_for_update()
    sale = session.scalars(query).first()
    if sale is None:
        raise NotFound(
            f"no sale with receipt {receipt!r} at this counter", code="receipt_not_found"
        )
    return sale


def points_earned(session: Session, order_id: int | None) -> int:
    """Points the order's earn entries gave (before any reversal)."""
    if order_id is None:
        return 0
    return int(
        session.scalar(
            select(func.coalesce(func.sum(PointEntry.points), 0)).where(
                PointEntry.order_id == order_id, PointEntry.kind == "earn"
            )
        )
    )


def record_sale(hub: Hub, session: Session, counter: Counter, sale: SaleIn) -> SaleResult:
    """Record the sale once per receipt; redeem its points; earn on what was paid.

    The same receipt sent again with the same content answers the recorded
    sale (``created`` False) and changes nothing.
    :raise Conflict: the receipt was recorded with other content
        (``receipt_conflict``), or the member has too few points.
    :raise ValidationError: a sale in the future, an unknown member, or a
        redemption the connection's terms refuse.
    """
    now = utcnow()
    if sale.sold_at > now + CLOCK_SKEW:
        raise ValidationError(
            f"the sale {sale.receipt} is dated {sale.sold_at.isoformat()}, in the future; "
            f"check the till's clock",
            details={"sold_at": ["in the future"]},
            code="sale_in_future",
        )
    digest = fingerprint(sale)
    sale_id = _claim_receipt(session, counter, sale, digest)
    if sale_id is None:
        return _replay(session, counter, sale, digest)
    row = session.get(PosSale, sale_id)
    member = _member(session, counter, sale, hub.config["HUB_DEFAULT_REGION"])
    if member is not None:
        # Take the member's row lock before writing anything that refers to the member:
        # on PostgreSQL each such insert takes a key-share lock on the member row, and two
        # sales of one member both holding that and then asking for the ledger's lock
        # deadlock each other.
        lock_member(session, member)
    points_discount = Decimal(0)
    if sale.redeem_points:
        points_discount = _redeem(session, counter, sale, row, member)
    order = _canonical(counter, sale, member, points_discount)
    when = min(sale.sold_at, now)
    recorded = record_order(
        hub, session, counter.merchant_id, order, connection_id=counter.connection_id, now=when
    )
    row.order_id = recorded.order.id
    row.member_id = member.id if member else None
    row.order_data = order.to_dict()
    session.flush()
    return SaleResult(row, True, points_earned(session, row.order_id), member)


def _redeem(
    session: Session, counter: Counter, sale: SaleIn, row: PosSale, member: Member | None
) -> Decimal:
    """Take the sale's points off the member's ledger, keyed by receipt; return their worth."""
    if member is None:
        raise ValidationError(
            "points can only be redeemed on a member's sale: send member_code or phone",
            details={"redeem_points": ["needs a member"]},
        )
    discount = discount_for_points(counter, sale.redeem_points, sale.total)
    posted = debit_points(
        session,
        member,
        sale.redeem_points,
        kind="redeem",
        key=f"pos:{counter.connection_id}:{sale.receipt}:redeem",
        reference=f"pos-sale:{row.id}",
        note=f"redeemed on receipt {sale.receipt} at {counter.location}"[:500],
        actor=counter.actor,
        data={"receipt": sale.receipt, "discount": _text(discount)},
    )
    row.points_redeemed = sale.redeem_points
    row.points_discount = discount
    row.redeem_entry_id = posted.entry.id
    return discount


def _replay(session: Session, counter: Counter, sale: SaleIn, digest: str) -> SaleResult:
    row = sale_by_receipt(session, counter, sale.receipt)
    if row.fingerprint != digest:
        raise Conflict(
            f"receipt {sale.receipt} was already recorded at this counter with other "
            f"content; a new sale needs a new receipt number",
            details={"receipt": ["already recorded with other content"]},
            code="receipt_conflict",
        )
    member = session.get(Member, row.member_id) if row.member_id else None
    return SaleResult(row, False, points_earned(session, row.order_id), member)


def _member(session: Session, counter: Counter, sale: SaleIn, region: str) -> Member | None:
    if not (sale.member_code or sale.phone):
        return None
    phone = read_lookup(sale.phone, region).phone if sale.phone else None
    code = read_lookup(sale.member_code, region).code if sale.member_code else None
    if not (phone or code):
        raise ValidationError(
            "member_code or phone is not a member code or phone number",
            details={"member_code": ["not a member code or phone number"]},
            code="member_not_found",
        )
    try:
        return find(session, counter, Lookup(phone=phone, code=code)).member
    except NotFound:
        raise ValidationError(
            "no member has this code or phone; enrol them first, or send the sale without a member",
            details={"member_code": ["no such member"]},
            code="member_not_found",
        ) from None


def _canonical(
    counter: Counter, sale: SaleIn, member: Member | None, points_discount: Decimal
) -> Order:
    discounts = sale.discount + points_discount
    subtotal = sale.subtotal if sale.subtotal is not None else sale.total + discounts
    if max(subtotal, discounts) >= LARGEST_AMOUNT:
        raise ValidationError(
            f"the amounts of sale {sale.receipt} are larger than any sale",
            details={"total": [f"the sale and its discounts must be under {LARGEST_AMOUNT}"]},
        )
    customer = None
    if member is not None:
        customer = Customer(
            external_id=f"{MEMBER_REF}{member.id}", phone=member.phone, name=member.name
        )
    return Order(
        external_id=sale.receipt,
        number=sale.receipt,
        currency=(sale.currency or counter.currency).upper(),
        subtotal=subtotal,
        total_discounts=discounts,
        total=sale.total,
        financial_status="paid",
        placed_at=sale.sold_at,
        paid_at=sale.sold_at,
        discount_codes=tuple(sale.discount_codes),
        lines=tuple(sale.lines),
        customer=customer,
    )


def points_reversed(session: Session, order_id: int | None) -> int:
    """Points taken back from what the order earned (refunds, a void)."""
    if order_id is None:
        return 0
    return -int(
        session.scalar(
            select(func.coalesce(func.sum(PointEntry.points), 0)).where(
                PointEntry.order_id == order_id,
                PointEntry.kind == "reverse",
                PointEntry.points < 0,
            )
        )
    )


@dataclass(frozen=True)
class VoidResult:
    sale: PosSale
    created: bool
    points_returned: int


def void_sale(
    hub: Hub, session: Session, counter: Counter, receipt: str, *, reason: str = ""
) -> VoidResult:
    """Cancel a recorded sale: its earned points are reversed, redeemed points returned.

    Voiding it again changes nothing.
    """
    row = sale_by_receipt(session, counter, receipt, lock=True)
    if row.voided_at is not None:
        return VoidResult(row, False, 0)
    now = utcnow()
    order = Order.from_dict(row.order_data)
    cancelled = dataclasses.replace(order, financial_status="voided", cancelled_at=now)
    record_order(
        hub, session, counter.merchant_id, cancelled, connection_id=counter.connection_id, now=now
    )
    returned = 0
    if row.redeem_entry_id is not None and row.member_id is not None:
        entry = session.get(PointEntry, row.redeem_entry_id)
        member = session.get(Member, row.member_id)
        posted = give_back_points(
            session,
            member,
            entry,
            key=f"pos:{counter.connection_id}:{receipt}:redeem:void",
            note=f"receipt {receipt} voided at {counter.location}: {reason}"[:500],
            actor=counter.actor,
        )
        returned = posted.entry.points if posted.created else 0
    row.voided_at = now
    row.order_data = cancelled.to_dict()
    session.flush()
    return VoidResult(row, True, returned)


@dataclass(frozen=True)
class RefundResult:
    created: bool
    points_reversed: int
    refund_id: str


def refund_sale(
    hub: Hub,
    session: Session,
    counter: Counter,
    receipt: str,
    *,
    refund_id: str,
    amount: Decimal,
    refunded_at: datetime | None = None,
    note: str = "",
) -> RefundResult:
    """Record money given back on a sale; its share of the earned points is reversed.

    Once per (receipt, refund id). A refund may come before its sale (a
    backlog in another order): it is kept and applied when the sale arrives.
    Points redeemed on the sale are not returned by a refund; a void returns them.
    """
    check_receipt(receipt)
    refund = Refund(
        external_id=refund_id,
        order_external_id=receipt,
        amount=amount,
        currency=counter.currency,
        created_at=refunded_at or utcnow(),
        note=note,
    )
    recorded = record_refund(
        hub, session, counter.merchant_id, refund, connection_id=counter.connection_id
    )
    return RefundResult(
        created=recorded.created,
        points_reversed=int(recorded.refund.points_reversed or 0),
        refund_id=refund_id,
    )


def _text(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")
