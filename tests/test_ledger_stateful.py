"""The ledger against a reference model, under random earn, redeem, refund, cancel, expire,
adjust and merge steps, with the invariants checked after every step.

Each example runs on a merchant of its own, on one test database. The model is
written from the rules the points engine documents (docs/points.md), not from
its code: lots spent soonest-expiring first, pending lots not spendable,
reversals taking the order's own lots first and leaving a debt that later
credits pay, refunds reversing in proportion to the earning base, expired
lots written off, merged ledgers settling debts against lots.

1,000 examples of up to 10 steps on SQLite: about 100 s of CPU, under two
minutes on an idle 2-core machine. On PostgreSQL (``HUB_TEST_DATABASE_URL``
set) every step costs more round trips, so it runs 200 examples; set
``HUB_STATEFUL_EXAMPLES`` to run another number on either database.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal

import pytest
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import initialize
from hypothesis.stateful import invariant
from hypothesis.stateful import precondition
from hypothesis.stateful import rule
from hypothesis.stateful import run_state_machine_as_test
from points_fixtures import order as make_order
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select

from hub.canonical import Refund
from hub.db import utcnow
from hub.members.merges import merge_members
from hub.merchants.accounts import create_merchant
from hub.models import Member
from hub.models import PointEntry
from hub.models import PointLot
from hub.orders.batches import record_order
from hub.orders.recording import record_refund
from hub.points import ledger
from hub.points.earning import adjust_points
from hub.points.expiry import expire_due
from hub.points.program import save_program

ON_POSTGRES = bool(os.environ.get("HUB_TEST_DATABASE_URL"))
EXAMPLES = int(os.environ.get("HUB_STATEFUL_EXAMPLES") or (200 if ON_POSTGRES else 1000))
STEPS = 10
PHONES = ("0911000001", "0911000002", "0911000003")


@pytest.fixture
def hub_config():
    # The core's ledger and earning plugins only: the model knows the base rule and
    # nothing else, and messages or widget caches would only slow every step down.
    return {
        "HUB_LOAD_ENTRYPOINTS": False,
        "HUB_DISABLE_PLUGINS": "hub.messaging.plugin",
    }


@dataclass
class Lot:
    seq: int
    points: int
    remaining: int
    available_at: datetime
    expires_at: datetime | None


@dataclass
class Account:
    balance: int = 0
    spent: Decimal = Decimal(0)
    lots: list[Lot] = field(default_factory=list)


@dataclass
class ModelOrder:
    member: int
    total: int
    paid: bool = False
    cancelled: bool = False
    earned: int | None = None  # None: not earned yet
    reversed: int = 0
    refunded: int = 0
    spent: int = 0
    lots: list[Lot] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # refunds stored before the earn
    placed_at: datetime | None = None  # its program version is the one in force then


def _expired(lot: Lot, now: datetime) -> bool:
    return lot.expires_at is not None and lot.expires_at <= now


def _order_key(lot: Lot):
    return (lot.expires_at is None, lot.expires_at or datetime.max.replace(tzinfo=None), lot.seq)


class LedgerMachine(RuleBasedStateMachine):
    """Drive the real code path; keep the model; compare after every step."""

    hub = None

    def __init__(self):
        super().__init__()
        self.seq = itertools.count()
        self.order_numbers = itertools.count(1)
        self.refund_numbers = itertools.count(1)
        self.clock = utcnow().replace(microsecond=0) + timedelta(days=1)
        self.accounts: dict[int, Account] = {}
        self.active: list[int] = []
        self.merged: list[int] = []
        self.orders: dict[str, ModelOrder] = {}

    # -- set-up ----------------------------------------------------------------

    @initialize(
        pending_days=st.sampled_from([0, 0, 2]),
        expiry_days=st.sampled_from([None, 5, 30]),
    )
    def set_up(self, pending_days, expiry_days):
        self.versions = [(self.clock - timedelta(days=1), pending_days, expiry_days)]
        values = {"pending_days": pending_days}
        if expiry_days:
            values["expiry"] = {"policy": "days", "days": expiry_days}
        with self.hub.db.transaction() as session:
            self.merchant_id = create_merchant(session, "stateful").id
            save_program(
                self.hub, session, self.merchant_id, values, actor="test",
                now=self.clock - timedelta(days=1),
            )  # fmt: skip
            # Plain rows, not create_member: the model starts where the members do, and a
            # member.created event per member would only slow every example down.
            members = [
                Member(merchant_id=self.merchant_id, code=f"S{n}", phone="+84" + phone[1:])
                for n, phone in enumerate(PHONES)
            ]
            session.add_all(members)
            session.flush()
            for member in members:
                self.accounts[member.id] = Account()
                self.active.append(member.id)
        self.phone_of = dict(zip(self.active, PHONES, strict=True))

    # -- the model's ledger ------------------------------------------------------

    def credit(self, account: Account, points: int, available_at, expires_at) -> Lot:
        debt = max(0, -account.balance)
        account.balance += points
        lot = Lot(next(self.seq), points, max(0, points - debt), available_at, expires_at)
        account.lots.append(lot)
        return lot

    def expire(self, account: Account) -> None:
        for lot in account.lots:
            if lot.remaining and _expired(lot, self.clock):
                account.balance -= lot.remaining
                lot.remaining = 0

    def available(self, account: Account) -> int:
        return sum(
            lot.remaining
            for lot in account.lots
            if lot.available_at <= self.clock and not _expired(lot, self.clock)
        )

    def debit(self, account: Account, points: int, *, allow_debt=False, prefer=()) -> bool:
        self.expire(account)
        ids = {lot.seq for lot in prefer}
        lots = sorted(
            (
                lot
                for lot in account.lots
                if lot.remaining
                and (lot.seq in ids or allow_debt or lot.available_at <= self.clock)
            ),
            key=lambda lot: (lot.seq not in ids, *_order_key(lot)),
        )
        if not allow_debt and sum(lot.remaining for lot in lots) < points:
            return False
        account.balance -= points
        left = points
        for lot in lots:
            take = min(left, lot.remaining)
            lot.remaining -= take
            left -= take
        return True

    # -- orders --------------------------------------------------------------------

    def record(self, external_id: str, **changes) -> None:
        model = self.orders[external_id]
        canonical = make_order(
            external_id,
            total=model.total,
            phone=self.phone_of_order(model),
            placed_at=self.clock,
            **changes,
        )
        with self.hub.db.transaction() as session:
            record_order(
                self.hub, session, self.merchant_id, canonical, source="sm", now=self.clock
            )

    def phone_of_order(self, model: ModelOrder) -> str:
        return self.phone_of.get(model.member, PHONES[0])

    def earn(self, model: ModelOrder) -> None:
        account = self.accounts[model.member]
        model.earned = model.total // 1000
        if model.earned:
            pending, expiry = self.program_at(model.placed_at)
            expires = self.clock + expiry if expiry else None
            lot = self.credit(account, model.earned, self.clock + pending, expires)
            model.lots.append(lot)
        model.spent = model.total
        account.spent += model.total
        for amount in model.waiting:
            self.apply_refund(model, amount)
        model.waiting.clear()

    def apply_refund(self, model: ModelOrder, amount: int) -> None:
        model.refunded += amount
        target = 0
        if model.earned and model.total:
            share = Decimal(min(model.refunded, model.total)) / Decimal(model.total)
            exact = (model.earned * share).quantize(Decimal(1), ROUND_HALF_UP)
            target = min(model.earned, int(exact))
        self.reverse(model, target)
        self.lower_spent(model, max(model.total - model.refunded, 0))

    def reverse(self, model: ModelOrder, target: int) -> None:
        points = target - model.reversed
        if points > 0:
            self.debit(self.accounts[model.member], points, allow_debt=True, prefer=model.lots)
            model.reversed += points

    def lower_spent(self, model: ModelOrder, spent: int) -> None:
        drop = model.spent - min(spent, model.spent)
        model.spent -= drop
        self.accounts[model.member].spent -= drop

    @rule(member=st.integers(0, 2), total=st.integers(0, 400).map(lambda k: k * 1000 + 500))
    def paid_order(self, member, total):
        external_id = f"o{next(self.order_numbers)}"
        model = ModelOrder(
            member=self.active[member % len(self.active)],
            total=total,
            paid=True,
            placed_at=self.clock,
        )
        self.orders[external_id] = model
        self.record(external_id)
        self.earn(model)

    @rule(member=st.integers(0, 2), total=st.integers(1, 400).map(lambda k: k * 1000))
    def unpaid_order(self, member, total):
        external_id = f"o{next(self.order_numbers)}"
        self.orders[external_id] = ModelOrder(
            member=self.active[member % len(self.active)],
            total=total,
            placed_at=self.clock,
        )
        self.record(external_id, status="pending")

    @precondition(lambda self: any(not o.paid for o in self.orders.values()))
    @rule(data=st.data())
    def pay(self, data):
        unpaid = sorted(k for k, o in self.orders.items() if not o.paid)
        external_id = data.draw(st.sampled_from(unpaid))
        model = self.orders[external_id]
        model.paid = True
        self.record(external_id)
        if not model.cancelled and model.earned is None:
            self.earn(model)

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), fraction=st.sampled_from(["0.1", "0.25", "0.5", "1", "1.3"]))
    def refund(self, data, fraction):
        external_id = data.draw(st.sampled_from(sorted(self.orders)))
        model = self.orders[external_id]
        amount = int(Decimal(model.total) * Decimal(fraction)) or 1
        the_refund = Refund(
            external_id=f"r{next(self.refund_numbers)}",
            order_external_id=external_id,
            amount=Decimal(amount),
            currency="VND",
            created_at=self.clock,
        )
        with self.hub.db.transaction() as session:
            record_refund(self.hub, session, self.merchant_id, the_refund, source="sm",
                          now=self.clock)  # fmt: skip
        if model.cancelled:
            return
        if model.earned is None:
            model.waiting.append(amount)
        else:
            self.apply_refund(model, amount)

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data())
    def cancel(self, data):
        external_id = data.draw(st.sampled_from(sorted(self.orders)))
        model = self.orders[external_id]
        self.record(
            external_id,
            status="paid" if model.paid else "pending",
            cancelled_at=self.clock,
        )
        if model.cancelled:
            return
        model.cancelled = True
        if model.earned is not None:
            self.reverse(model, model.earned)
            self.lower_spent(model, 0)

    @rule(
        pending_days=st.sampled_from([0, 1, 3]),
        expiry_days=st.sampled_from([None, 2, 5, 30]),
    )
    def change_program(self, pending_days, expiry_days):
        """A new version: orders placed from now on, and adjustments, follow it."""
        values = {"pending_days": pending_days}
        if expiry_days:
            values["expiry"] = {"policy": "days", "days": expiry_days}
        with self.hub.db.transaction() as session:
            save_program(self.hub, session, self.merchant_id, values, actor="test", now=self.clock)
        self.versions.append((self.clock, pending_days, expiry_days))

    def program_at(self, moment: datetime) -> tuple[timedelta, timedelta | None]:
        """Hold and expiry of the latest version saved at or before ``moment``."""
        _, pending, expiry = [v for v in self.versions if v[0] <= moment][-1]
        return timedelta(days=pending), timedelta(days=expiry) if expiry else None

    # -- points directly -------------------------------------------------------------

    @rule(member=st.integers(0, 2), points=st.integers(1, 300))
    def redeem(self, member, points):
        member_id = self.active[member % len(self.active)]
        refused = False
        try:
            with self.hub.db.transaction() as session:
                ledger.debit(
                    session, session.get(Member, member_id), points, kind="redeem",
                    key=f"redeem:{next(self.seq)}", now=self.clock,
                )  # fmt: skip
        except ledger.InsufficientPoints:
            refused = True
        allowed = self.debit(self.accounts[member_id], points)
        assert refused == (not allowed)

    @rule(member=st.integers(0, 2), points=st.integers(-200, 200).filter(bool))
    def adjust(self, member, points):
        member_id = self.active[member % len(self.active)]
        refused = False
        try:
            with self.hub.db.transaction() as session:
                adjust_points(
                    self.hub, session, session.get(Member, member_id), points, reason="model",
                    actor="test", now=self.clock,
                )  # fmt: skip
        except ledger.InsufficientPoints:
            refused = True
        account = self.accounts[member_id]
        if points > 0:
            expiry = self.program_at(self.clock)[1]
            self.credit(account, points, self.clock, self.clock + expiry if expiry else None)
        else:
            assert refused == (not self.debit(account, -points))

    @rule(days=st.sampled_from([1, 2, 3, 7, 20]))
    def time_passes(self, days):
        self.clock += timedelta(days=days)
        expire_due(self.hub, now=self.clock)
        for account in self.accounts.values():
            self.expire(account)

    @precondition(lambda self: len(self.active) > 1)
    @rule(data=st.data())
    def merge(self, data):
        survivor, merged = data.draw(st.permutations(self.active))[:2]
        with self.hub.db.transaction() as session:
            merge_members(self.hub, session, self.merchant_id, survivor, merged, actor="test")
        keep, gone = self.accounts[survivor], self.accounts[merged]
        keep.balance += gone.balance
        keep.spent += gone.spent
        keep.lots = sorted(keep.lots + gone.lots, key=lambda lot: lot.seq)
        self.accounts[merged] = Account()
        excess = sum(lot.remaining for lot in keep.lots) - max(keep.balance, 0)
        for lot in sorted(keep.lots, key=_order_key):
            take = min(excess, lot.remaining)
            lot.remaining -= take
            excess -= take
        for model in self.orders.values():
            if model.member == merged:
                model.member = survivor
        self.active.remove(merged)
        self.merged.append(merged)

    # -- the check ---------------------------------------------------------------------

    @invariant()
    def ledger_matches_the_model(self):
        if not self.accounts:
            return
        with self.hub.db.session() as session:
            rows = session.execute(self.snapshot_query()).all()
            lots = session.execute(
                select(PointLot.member_id, PointLot.remaining)
                .where(PointLot.member_id.in_(list(self.accounts)))
                .order_by(PointLot.id)
            ).all()
        # Lot by lot, in the order they were credited: which lot a debit drew matters.
        for member_id, account in self.accounts.items():
            drawn = [remaining for owner, remaining in lots if owner == member_id]
            expected = [lot.remaining for lot in sorted(account.lots, key=lambda lot: lot.seq)]
            assert drawn == expected
        for member_id, balance, spent, entries, remaining, available, pending in rows:
            account = self.accounts[member_id]
            assert balance == entries == account.balance
            assert remaining == max(balance, 0)
            assert available == self.available(account)
            assert pending == sum(
                lot.remaining
                for lot in account.lots
                if lot.available_at > self.clock and not _expired(lot, self.clock)
            )
            assert spent == account.spent

    def snapshot_query(self):
        """Each member's balance, spend, sum of entries, lots left, available and pending."""
        live = or_(PointLot.expires_at.is_(None), PointLot.expires_at > self.clock)

        def lots(condition=None):
            value = (
                PointLot.remaining
                if condition is None
                else case((and_(live, condition), PointLot.remaining), else_=0)
            )
            return (
                select(func.coalesce(func.sum(value), 0))
                .where(PointLot.member_id == Member.id)
                .scalar_subquery()
            )

        entries = (
            select(func.coalesce(func.sum(PointEntry.points), 0))
            .where(PointEntry.member_id == Member.id)
            .scalar_subquery()
        )
        return select(
            Member.id,
            Member.points_balance,
            Member.total_spent,
            entries,
            lots(),
            lots(PointLot.available_at <= self.clock),
            lots(PointLot.available_at > self.clock),
        ).where(Member.id.in_(list(self.accounts)))


@pytest.mark.long(90)
def test_ledger_matches_a_reference_model_under_random_operations(hub):
    LedgerMachine.hub = hub
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
