"""Keep the rollups in step: mark the days a transaction touched, recompute them later.

A commit listener on the hub's write sessions marks, in the same
transaction, each (merchant, local day) whose rollups the transaction's
changes make stale, in ``report_stale_days``:

* the ledger's entries, by the time they were posted
  (``hub.points.ledger.posted_moments``; the ledger stays the only writer of
  points, this only reads what it wrote);
* orders, refunds, members, vouchers and tier stays written through the ORM,
  by the day each counts on (an order's placing, a refund's making, a
  member's joining, a stay's beginning and end; a voucher used on an order
  marks that order's day);
* orders and members that the transaction's events name (set-based writes
  such as ``record_orders`` and imports announce them that way), by the same days;
* a merge (``member.merged``), by the days of the surviving member's orders,
  which now include the merged member's (what each member bought each day is
  rolled up too).

``refresh`` recomputes a merchant's stale days (``hub.reports.rollups``)
and clears them. Reports call it before they read, and the periodic job
``reports.refresh`` runs it for every merchant, so a report never shows a
day that lags behind the raw tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import delete
from sqlalchemy import event as sa_event
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from hub.db import any_of
from hub.db import per_transaction
from hub.models import Member
from hub.models import MemberTier
from hub.models import Merchant
from hub.models import Order
from hub.models import OrderRefund
from hub.models import ReportStaleDay
from hub.models import Voucher
from hub.points import ledger
from hub.reports.days import local_day
from hub.reports.days import runs
from hub.reports.days import zone
from hub.reports.rollups import recompute

if TYPE_CHECKING:
    from hub.core import Hub

_STALE = ReportStaleDay.__table__
_KEY = "hub_report_touched"


class _Touched:
    """What the transaction changed that counts on a day."""

    __slots__ = ("members", "moments", "orders")

    def __init__(self) -> None:
        self.moments: set[tuple[int, datetime]] = set()
        self.orders: set[int] = set()
        self.members: set[int] = set()


def _touched(session: Session) -> _Touched:
    return per_transaction(session, _KEY, _Touched)


def install(hub: Hub) -> None:
    """Listen to the hub's write sessions; mark stale days before each commit."""
    writer = hub.db._writer

    @sa_event.listens_for(writer, "after_flush")
    def _after_flush(session: Session, _context: Any) -> None:
        touched = _touched(session)
        for obj in (*session.new, *session.deleted):
            _note(touched, obj, whole=True)
        for obj in session.dirty:
            _note(touched, obj, whole=False)

    @sa_event.listens_for(writer, "before_commit")
    def _before_commit(session: Session) -> None:
        session.flush()
        mark_touched(session)


def _note(touched: _Touched, obj: Any, *, whole: bool) -> None:
    """Note the day ``obj`` counts on; ``whole`` when it was added or deleted."""
    if isinstance(obj, Order):
        touched.moments.add((obj.merchant_id, obj.placed_at))
    elif isinstance(obj, OrderRefund):
        touched.moments.add((obj.merchant_id, obj.refunded_at))
    elif isinstance(obj, Member):
        if whole or inspect(obj).attrs.merged_into_id.history.has_changes():
            touched.moments.add((obj.merchant_id, obj.created_at))
    elif isinstance(obj, Voucher) and obj.used_order_id is not None:
        touched.orders.add(obj.used_order_id)
    elif isinstance(obj, MemberTier):
        # A stay counts where it began and where it ended; only its end changes once written.
        touched.moments.add((obj.merchant_id, obj.started_at))
        touched.moments.add((obj.merchant_id, obj.ended_at))


def mark_touched(session: Session) -> None:
    """Mark the days of what the transaction changed so far as stale (in the transaction)."""
    touched = _touched(session)
    moments = set(touched.moments)
    moments.update(ledger.posted_moments(session))
    orders, members = set(touched.orders), set(touched.members)
    survivors: set[int] = set()
    for event in session.info.get("hub_events", ()):
        order_id = event.data.get("order_id")
        if isinstance(order_id, int):
            orders.add(order_id)
        if event.type.startswith("member."):
            for key in ("member_id", "merged_member_id"):
                if isinstance(event.data.get(key), int):
                    members.add(event.data[key])
        if event.type == "member.merged" and isinstance(event.data.get("member_id"), int):
            survivors.add(event.data["member_id"])
    moments.update(_looked_up(session, Order, Order.placed_at, orders))
    moments.update(_bought_by(session, survivors))
    moments.update(_looked_up(session, Member, Member.created_at, members))
    touched.moments.clear()
    touched.orders.clear()
    touched.members.clear()
    _mark(session, moments)


def _looked_up(session: Session, model: Any, column: Any, ids: set[int]) -> Iterable:
    if not ids:
        return ()
    return session.execute(
        select(model.merchant_id, column).where(any_of(session, model.id, sorted(ids)))
    )


def _bought_by(session: Session, member_ids: set[int]) -> Iterable:
    """The placing days of the members' orders: a merge moves the merged member's orders."""
    if not member_ids:
        return ()
    return session.execute(
        select(Order.merchant_id, Order.placed_at)
        .where(any_of(session, Order.member_id, sorted(member_ids)))
        .distinct()
    )


#: PostgreSQL turns the moments into their merchants' local days in the same
#: statement that marks them: one round trip per committing transaction.
_MARK_PG = text(
    "INSERT INTO report_stale_days (merchant_id, day)"
    " SELECT DISTINCT m.id, timezone(m.timezone, t.at)::date"
    " FROM unnest(CAST(:merchant_ids AS bigint[]), CAST(:moments AS timestamptz[]))"
    " AS t(merchant_id, at) JOIN merchants m ON m.id = t.merchant_id"
    " ORDER BY 1, 2 ON CONFLICT DO NOTHING"
)


def _mark(session: Session, moments: set[tuple[int, datetime]]) -> None:
    moments = {(m, at) for m, at in moments if m is not None and at is not None}
    if not moments:
        return
    if session.get_bind().dialect.name == "postgresql":
        pairs = list(moments)  # the statement orders the rows it inserts
        session.execute(
            _MARK_PG,
            {"merchant_ids": [m for m, _ in pairs], "moments": [at for _, at in pairs]},
        )
        return
    zones = dict(
        session.execute(
            select(Merchant.id, Merchant.timezone).where(
                Merchant.id.in_(sorted({m for m, _ in moments}))
            )
        ).all()
    )
    days = sorted({(m, local_day(at, zone(zones[m]))) for m, at in moments if m in zones})
    if not days:
        return
    session.execute(
        sqlite.insert(_STALE).on_conflict_do_nothing(),
        [{"merchant_id": m, "day": day} for m, day in days],
    )


def stale_days(session: Session, merchant_id: int) -> list[date]:
    return list(
        session.scalars(
            select(ReportStaleDay.day)
            .where(ReportStaleDay.merchant_id == merchant_id)
            .order_by(ReportStaleDay.day)
        )
    )


def refresh(session: Session, merchant_id: int) -> int:
    """Recompute the merchant's stale days and clear them; return how many days were stale.

    The marks are deleted before the days are read: a transaction that marks
    one of them again while this runs waits for this one and marks it anew,
    so its change is recomputed next time.
    """
    days = stale_days(session, merchant_id)
    if not days:
        return 0
    session.execute(
        delete(_STALE).where(_STALE.c.merchant_id == merchant_id, _STALE.c.day.in_(days))
    )
    for first, last in runs(days):
        recompute(session, merchant_id, first, last)
    return len(days)


def merchants_with_stale_days(session: Session) -> list[int]:
    return list(session.scalars(select(ReportStaleDay.merchant_id).distinct()))
