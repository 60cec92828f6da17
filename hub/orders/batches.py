"""Record orders: the one path every order takes, a batch of one being the single case.

``record_orders`` applies a batch of one merchant's orders in the order
given. The orders it can take together (new ones, sent once in the batch,
with no refund waiting for them) are written with a few statements for the
whole batch: one lookup of what exists, members matched in sets, one INSERT
per table, and one ledger posting per round. A later delivery of a stored
order (or a second one in the same batch) updates it at its place in the
batch, and a new order whose refund came first is stored alone at its place;
both then follow ``hub.points.accrual.sync_order``. ``record_order`` is
``record_orders`` with one order, answering with the stored row.

Earning is asked per order (``points_for_order``), in rounds that hold one
order per member: a member's second order in the batch earns after the
first has been counted, so rules such as the first order bonus or a tier
reached on the way see what they would see one order at a time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.canonical import Order as CanonicalOrder
from hub.db import insert_returning_ids
from hub.db import utcnow
from hub.events import emit_many
from hub.members.directory import members_prefetched
from hub.metrics import count
from hub.models import Member
from hub.models import Order
from hub.models import OrderAccrual
from hub.models import OrderLine
from hub.models import OrderRefund
from hub.orders.recording import RecordedOrder
from hub.orders.recording import attach_refunds
from hub.orders.recording import check_status
from hub.orders.recording import event_data
from hub.orders.recording import line_values
from hub.orders.recording import namespace_for
from hub.orders.recording import to_utc
from hub.orders.recording import update_order
from hub.phones import phone_or_none
from hub.points import ledger
from hub.points.accrual import earn_credit
from hub.points.accrual import earned_event
from hub.points.accrual import is_cancelled
from hub.points.accrual import is_paid
from hub.points.accrual import sync_order
from hub.points.earning import Quote
from hub.points.earning import quote
from hub.points.program import ProgramsInForce
from hub.referrals.progress import orders_paid
from hub.referrals.progress import refund_seen
from hub.referrals.progress import refunded_or_cancelled
from hub.tiers import reevaluate_tier
from hub.tiers.ladder import list_tiers

if TYPE_CHECKING:
    from hub.core import Hub

_INSERT_LINES = insert(OrderLine.__table__)
_INSERT_ACCRUALS = insert(OrderAccrual.__table__)
_ORDER_JSON = ("discount_codes", "customer")


@dataclasses.dataclass
class _New:
    """One new order of the batch on its way through the set-based path."""

    order: CanonicalOrder
    member: Member | None = None
    order_id: int | None = None
    #: A refund came before the order: its points follow ``sync_order``, which applies it.
    awaited: bool = False


#: What recording one order did: the stored order's id, whether it is new, what changed.
_Outcome = tuple[int, bool, tuple[str, ...]]


def record_orders(
    hub: Hub,
    session: Session,
    merchant_id: int,
    orders: Sequence[CanonicalOrder],
    *,
    connection_id: int | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Store each order, or update the stored one, in the caller's transaction; return their ids.

    Orders are applied in the order given, once per (connection or source,
    external id): the same order sent again changes nothing and emits
    nothing; a later delivery updates it (order.updated). A new order emits
    order.received; its member is resolved through the ``member_for_customer``
    hook (an order without a usable customer is stored with no member). The
    orders' points follow their state (``hub.points.accrual``): earned once paid,
    reversed by refunds and cancellation, at ``now`` (default: the clock).
    Raises (an unknown financial status, an unknown connection) before
    writing anything.
    """
    outcomes = _record(hub, session, merchant_id, orders, connection_id, source, now)
    return [order_id for order_id, _, _ in outcomes]


def record_order(
    hub: Hub,
    session: Session,
    merchant_id: int,
    order: CanonicalOrder,
    *,
    connection_id: int | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> RecordedOrder:
    """``record_orders`` with a batch of one, answering with the stored row."""
    ((order_id, created, changed),) = _record(
        hub, session, merchant_id, [order], connection_id, source, now
    )
    return RecordedOrder(order=session.get_one(Order, order_id), created=created, changed=changed)


def _record(
    hub: Hub,
    session: Session,
    merchant_id: int,
    orders: Sequence[CanonicalOrder],
    connection_id: int | None,
    source: str | None,
    now: datetime | None,
) -> list[_Outcome]:
    for order in orders:
        check_status(order)
    namespace = namespace_for(session, merchant_id, connection_id, source)
    if not orders:
        return []
    stored, awaited = _known(session, merchant_id, namespace, orders)
    batch = _Batch(hub, session, merchant_id, connection_id, namespace, now or utcnow())
    outcomes: list = [None] * len(orders)
    run: list[tuple[int, _New]] = []
    seen: set[str] = set()
    for position, order in enumerate(orders):
        if order.external_id in stored or order.external_id in seen:
            batch.flush(run, outcomes)  # what came before, at its place
            run = []
            outcomes[position] = batch.update(order)
        elif order.external_id in awaited:
            batch.flush(run, outcomes)
            run = []
            batch.flush([(position, _New(order, awaited=True))], outcomes)
        else:
            run.append((position, _New(order)))
        seen.add(order.external_id)
    batch.flush(run, outcomes)
    return outcomes


def _known(
    session: Session, merchant_id: int, namespace: str, orders: Sequence[CanonicalOrder]
) -> tuple[set[str], set[str]]:
    """The external ids among ``orders`` already stored, and those a stored refund awaits."""
    external_ids = list({order.external_id for order in orders})
    stored = session.scalars(
        select(Order.external_id).where(
            Order.merchant_id == merchant_id,
            Order.source == namespace,
            Order.external_id.in_(external_ids),
        )
    )
    awaited = session.scalars(
        select(OrderRefund.order_external_id).where(
            OrderRefund.merchant_id == merchant_id,
            OrderRefund.source == namespace,
            OrderRefund.order_external_id.in_(external_ids),
            OrderRefund.order_id.is_(None),
        )
    )
    return set(stored), set(awaited)


class _Batch:
    def __init__(
        self,
        hub: Hub,
        session: Session,
        merchant_id: int,
        connection_id: int | None,
        namespace: str,
        now: datetime,
    ) -> None:
        self.hub, self.session, self.merchant_id = hub, session, merchant_id
        self.connection_id, self.namespace, self.now = connection_id, namespace, now
        self._programs: ProgramsInForce | None = None
        self._has_tiers: bool | None = None

    def flush(self, run: list[tuple[int, _New]], outcomes: list) -> None:
        """Store the new orders of ``run`` and earn their points; note each one's outcome."""
        if not run:
            return
        news = [new for _, new in run]
        self._match_members(news)
        self._insert_orders(news)
        # Earning in rounds of one order per member, in the order given.
        waiting = [new for new in news if self._earns(new)]
        while waiting:
            members: set[int] = set()
            this_round, later = [], []
            for new in waiting:
                (later if new.member.id in members else this_round).append(new)
                members.add(new.member.id)
            self._earn(this_round)
            waiting = later
        orders_paid(
            self.session,
            self.merchant_id,
            [
                (new.order_id, new.member and new.member.id, to_utc(new.order.paid_at))
                for new in news
            ],
            self.now,
        )
        for new in news:
            if new.awaited:
                row = self.session.get_one(Order, new.order_id)
                fresh = not attach_refunds(self.session, row)
                sync_order(self.hub, self.session, row, fresh=fresh, now=self.now)
        for position, new in run:
            outcomes[position] = (new.order_id, True, ())

    def update(self, order: CanonicalOrder) -> _Outcome:
        """Apply a later delivery of a stored order, and whatever its points now call for."""
        session = self.session
        row_id = session.scalar(
            select(Order.id).where(
                Order.merchant_id == self.merchant_id,
                Order.source == self.namespace,
                Order.external_id == order.external_id,
            )
        )
        row = session.get_one(Order, row_id)
        recorded = update_order(session, row, order)
        attach_refunds(session, row)  # one that raced the order's first delivery
        sync_order(self.hub, session, row, now=self.now)
        if "paid_at" in recorded.changed:
            orders_paid(session, self.merchant_id, [(row.id, row.member_id, row.paid_at)], self.now)
        if {"financial_status", "cancelled_at"} & set(recorded.changed) and refunded_or_cancelled(
            row
        ):
            refund_seen(session, row.id, self.now)
        return (row.id, False, recorded.changed)

    # -- members --------------------------------------------------------------

    def _match_members(self, news: list[_New]) -> None:
        """Each order's member, from ``member_for_customer`` as ``record_order`` asks it.

        The members the batch's phones and customer ids name are looked up
        together first, so the built-in matching answers most customers
        without a query of its own.
        """
        hub, session = self.hub, self.session
        customers = [new.order.customer for new in news if new.order.customer is not None]
        if not customers:
            return
        region = hub.config["HUB_DEFAULT_REGION"]
        with members_prefetched(
            session,
            self.merchant_id,
            phones=[phone_or_none(customer.phone, region) for customer in customers],
            connection_id=self.connection_id,
            external_ids=[customer.external_id for customer in customers],
        ):
            for new in news:
                if new.order.customer is None:
                    continue
                new.member = hub.pm.hook.member_for_customer(
                    hub=hub,
                    session=session,
                    merchant_id=self.merchant_id,
                    connection_id=self.connection_id,
                    customer=new.order.customer,
                )

    # -- orders ---------------------------------------------------------------

    def _insert_orders(self, news: list[_New]) -> None:
        session, now = self.session, self.now
        rows = [
            {
                "merchant_id": self.merchant_id,
                "connection_id": self.connection_id,
                "source": self.namespace,
                "external_id": new.order.external_id,
                "number": new.order.number,
                "member_id": new.member.id if new.member else None,
                "currency": new.order.currency.upper(),
                "subtotal": new.order.subtotal,
                "total_discounts": new.order.total_discounts,
                "shipping": new.order.shipping,
                "tax": new.order.tax,
                "total": new.order.total,
                "discount_codes": list(new.order.discount_codes),
                "financial_status": new.order.financial_status,
                "customer": new.order.customer.to_dict() if new.order.customer else {},
                "placed_at": to_utc(new.order.placed_at),
                "paid_at": to_utc(new.order.paid_at),
                "cancelled_at": to_utc(new.order.cancelled_at),
                "source_updated_at": to_utc(new.order.updated_at),
                "created_at": now,
                "updated_at": now,
            }
            for new in news
        ]
        connection = session.connection()
        order_ids = insert_returning_ids(session, Order.__table__, rows, json=_ORDER_JSON)
        lines = []
        for new, order_id in zip(news, order_ids, strict=True):
            new.order_id = order_id
            lines.extend(
                {"order_id": order_id, **line_values(i, line)}
                for i, line in enumerate(new.order.lines)
            )
        if lines:
            connection.execute(_INSERT_LINES, lines)
        emit_many(
            session,
            self.merchant_id,
            [
                ("order.received", event_data(new.order_id, row))
                for new, row in zip(news, rows, strict=True)
            ],
        )

    def _earns(self, new: _New) -> bool:
        # What sync_order does for an order just inserted: earn when paid and not cancelled.
        return (
            new.member is not None
            and not new.awaited
            and is_paid(new.order)
            and not is_cancelled(new.order)
        )

    # -- earning ----------------------------------------------------------------

    def _earn(self, news: list[_New]) -> None:
        """Quote each order under its member's lock, then post the round in one batch."""
        hub, session, now = self.hub, self.session, self.now
        if self._programs is None:
            self._programs = ProgramsInForce(hub, session, self.merchant_id)
        ledger.lock_members(session, [new.member for new in news])
        quotes = [
            quote(hub, session, self.merchant_id, new.member, _as_stored(new.order),
                  self._programs.at(to_utc(new.order.placed_at) or now))
            for new in news
        ]  # fmt: skip
        postings, last = [], []
        for new, offer in zip(news, quotes, strict=True):
            postings.append(ledger.Posting(new.member, ledger.Spent(new.order.total)))
            postings += [
                ledger.Posting(new.member, earn_credit(new.order_id, award, offer.program, now))
                for award in offer.awards
            ]
            last.append(len(postings) - 1)
        # New orders have no accrual rows, so none of their keys can be written yet.
        posted = ledger.post(session, postings, now=now, known_new=True)
        accruals = [self._accrual(new, offer) for new, offer in zip(news, quotes, strict=True)]
        session.connection().execute(_INSERT_ACCRUALS, accruals)
        earning = [offer for offer in quotes if offer.points]
        if earning:
            count("accruals", len(earning))
            count("points_accrued", sum(offer.points for offer in earning))
        emit_many(
            session,
            self.merchant_id,
            [
                ("points.earned",
                 earned_event(new.member.id, new.order_id, offer, now, posted[i].balance))
                for new, offer, i in zip(news, quotes, last, strict=True)
                if offer.points
            ],
        )  # fmt: skip
        if self._has_tiers is None:
            self._has_tiers = bool(list_tiers(session, self.merchant_id))
        if self._has_tiers:
            for member in {new.member.id: new.member for new in news}.values():
                reevaluate_tier(hub, session, member)

    def _accrual(self, new: _New, offer: Quote) -> dict:
        """The ``order_accruals`` row of a new order's earning."""
        return {
            "merchant_id": self.merchant_id,
            "order_id": new.order_id,
            "member_id": new.member.id,
            "program_version": offer.program.version,
            "base": offer.base,
            "earned": offer.points,
            "reversed": 0,
            "refunded": Decimal(0),
            "spent": new.order.total,
            "cancelled": False,
            "created_at": self.now,
            "updated_at": self.now,
        }


def _as_stored(order: CanonicalOrder) -> CanonicalOrder:
    """The order as ``hub.points.accrual.canonical`` reads it back from its row."""
    return dataclasses.replace(
        order,
        currency=order.currency.upper(),
        placed_at=to_utc(order.placed_at),
        paid_at=to_utc(order.paid_at),
        cancelled_at=to_utc(order.cancelled_at),
    )
