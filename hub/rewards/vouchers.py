"""Vouchers: issue a code, check it at a till, burn it once, cancel or expire it.

A code is 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L,
U), drawn with ``secrets``: about 59 bits, so codes cannot be guessed, and
unique per merchant. Input is forgiving: case, spaces and dashes are ignored.

Using a voucher is idempotent per use: the same code with the same order (or
external reference) answers the same result again; a different use of a used
voucher is a conflict. The state change is a guarded ``UPDATE ... WHERE
status = 'issued'``, so of two tills burning one code at once exactly one wins.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from decimal import ROUND_DOWN
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm import make_transient_to_detached

from hub.db import utcnow
from hub.errors import Conflict
from hub.errors import HubError
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.events import emit
from hub.jobs import PeriodicJob
from hub.markers import hookimpl
from hub.models import Member
from hub.models import Merchant
from hub.models import PointEntry
from hub.models.rewards import Reward
from hub.models.rewards import Voucher
from hub.orders.recording import get_order
from hub.points import ledger

if TYPE_CHECKING:
    from hub.core import Hub

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
STATUSES = ("issued", "used", "cancelled", "expired")
#: Currencies without minor units: a percent discount is rounded to whole units.
ZERO_DECIMAL_CURRENCIES = frozenset({"VND", "JPY", "KRW", "CLP", "ISK", "PYG", "UGX", "XAF"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """The code as stored: upper case, without spaces or dashes."""
    return "".join(c for c in (code or "").upper() if c not in " -\t")


def issue_voucher(
    session: Session, member: Member, reward: Reward, *, actor: str, now: datetime | None = None
) -> Voucher:
    """Write a new voucher with the reward's terms as they are now; the caller debits.

    One statement writes it with the merchant's currency and a code no other
    voucher of the merchant has: a code already taken writes nothing (the
    merchant's codes are unique in the table), and another one is drawn.
    """
    now = now or utcnow()
    row = {
        "merchant_id": member.merchant_id,
        "member_id": member.id,
        "reward_id": reward.id,
        "status": "issued",
        "reward_name": reward.name,
        "kind": reward.kind,
        "value": reward.value,
        "max_discount": reward.max_discount,
        "product_sku": reward.product_sku,
        "min_order": reward.min_order or Decimal(0),
        "points": reward.points_cost,
        "points_returned": 0,
        "issued_at": now,
        "expires_at": now + timedelta(days=reward.validity_days) if reward.validity_days else None,
        "actor": actor,
    }
    statement = _insert_voucher(session.get_bind().dialect.name)
    for _ in range(_DRAWS):
        row["code"] = new_code()
        written = session.execute(statement, row).first()
        if written is not None:
            break
    else:  # the merchant's row is gone (deleted meanwhile), or every code drawn was taken
        raise Conflict(
            f"no voucher could be written for merchant {member.merchant_id}; try again",
            code="voucher_not_written",
        )
    voucher = Voucher(id=written.id, currency=written.currency, **row, **_NOT_YET)
    make_transient_to_detached(voucher)
    session.add(voucher)
    return voucher


#: Codes drawn before giving up; a code is taken by chance once in 30**12 / (the
#: merchant's vouchers), so five taken in a row mean something else is wrong.
_DRAWS = 5
#: The columns a new voucher leaves empty until it is used, cancelled or expired.
_NOT_YET = dict.fromkeys(
    ("debit_entry_id", "used_at", "used_reference", "used_order_id", "used_order_total",
     "used_discount", "cancelled_at", "expired_at")
)  # fmt: skip


@functools.cache
def _insert_voucher(dialect: str) -> Any:
    """``INSERT INTO vouchers ... SELECT`` the row with the merchant's currency, unless the
    merchant's code is taken; it returns the new id and currency, or no row."""
    table = Voucher.__table__
    names = ["merchant_id", "member_id", "reward_id", "code", "status", "reward_name", "kind",
             "value", "max_discount", "product_sku", "min_order", "points", "points_returned",
             "issued_at", "expires_at", "actor"]  # fmt: skip
    values = select(
        *(bindparam(name, type_=table.c[name].type) for name in names),
        func.coalesce(Merchant.currency, "VND"),
    ).where(Merchant.id == bindparam("merchant_id", type_=table.c.merchant_id.type))
    maker = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        maker(table)
        .from_select([*names, "currency"], values)
        .on_conflict_do_nothing(index_elements=["merchant_id", "code"])
        .returning(table.c.id, table.c.currency)
    )


def get_voucher(session: Session, merchant_id: int, code: str) -> Voucher:
    """Return the merchant's voucher with this code; another merchant's is not found."""
    voucher = session.scalars(
        select(Voucher).where(
            Voucher.merchant_id == merchant_id, Voucher.code == normalize_code(code)
        )
    ).first()
    if voucher is None:
        raise NotFound(f"voucher {code!r} not found", code="voucher_not_found")
    return voucher


def effective_status(voucher: Voucher, now: datetime | None = None) -> str:
    """The status as a till should see it: an issued voucher past its date is expired."""
    if voucher.status == "issued" and _past(voucher, now or utcnow()):
        return "expired"
    return voucher.status


def _past(voucher: Voucher, now: datetime) -> bool:
    return voucher.expires_at is not None and voucher.expires_at <= now


def member_vouchers(
    session: Session,
    member_id: int,
    *,
    status: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Voucher]:
    """The member's vouchers, oldest first, optionally of one (stored) status."""
    query = select(Voucher).where(Voucher.member_id == member_id)
    if status == "expired":
        query = query.where(
            (Voucher.status == "expired")
            | ((Voucher.status == "issued") & (Voucher.expires_at <= utcnow()))
        )
    elif status == "issued":
        query = query.where(
            Voucher.status == "issued",
            (Voucher.expires_at.is_(None)) | (Voucher.expires_at > utcnow()),
        )
    elif status:
        query = query.where(Voucher.status == status)
    if after_id:
        query = query.where(Voucher.id > after_id)
    return list(session.scalars(query.order_by(Voucher.id).limit(limit)))


def discount_for(voucher: Voucher, order_total: Decimal | None) -> Decimal | None:
    """The amount the voucher takes off an order of ``order_total`` (None: not an amount).

    Free shipping and free products are applied by the store; they have no
    amount here.
    """
    if order_total is None or voucher.kind in ("free_shipping", "free_product"):
        return None
    total = Decimal(order_total)
    if voucher.kind == "percent_off":
        unit = Decimal(1) if voucher.currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
        amount = (total * Decimal(voucher.value) / 100).quantize(unit, rounding=ROUND_DOWN)
        if voucher.max_discount is not None:
            amount = min(amount, Decimal(voucher.max_discount))
        return amount
    return min(Decimal(voucher.value or 0), total)


@dataclass(frozen=True)
class Check:
    """The answer to "can this code be used now?": ``reason`` says why not."""

    valid: bool
    voucher: Voucher | None
    reason: str | None = None
    message: str = ""
    discount: Decimal | None = None


_REASONS = {
    "used": "the voucher has already been used",
    "cancelled": "the voucher was cancelled",
    "expired": "the voucher has expired",
}


def validate_voucher(
    session: Session, merchant_id: int, code: str, order_total: Decimal | None = None
) -> Check:
    """Say whether the code can be used now (on an order of ``order_total``), and for how much."""
    try:
        voucher = get_voucher(session, merchant_id, code)
    except NotFound:
        return Check(False, None, "not_found", f"there is no voucher {code!r}")
    status = effective_status(voucher)
    if status != "issued":
        return Check(False, voucher, status, _REASONS[status])
    if order_total is not None and Decimal(order_total) < voucher.min_order:
        return Check(
            False,
            voucher,
            "below_minimum",
            f"the voucher needs an order of at least {voucher.min_order}",
        )
    return Check(True, voucher, discount=discount_for(voucher, order_total))


@dataclass(frozen=True)
class Use:
    voucher: Voucher
    replayed: bool


def use_voucher(
    session: Session,
    merchant_id: int,
    code: str,
    *,
    order_id: int | None = None,
    reference: str | None = None,
    order_total: Decimal | None = None,
    actor: str = "system",
) -> Use:
    """Burn the voucher for one order (a hub order id or the store's own reference).

    The same use sent again answers the stored result (``replayed``); any
    other use of a used voucher raises ``Conflict`` (409).
    :raise ValidationError: neither order nor reference, or the order is below minimum.
    """
    if order_id is None and not reference:
        raise ValidationError(
            "say which order the voucher is used on: order_id or reference",
            details={"order_id": ["order_id or reference is required"]},
        )
    order = get_order(session, merchant_id, order_id) if order_id is not None else None
    used_reference = f"order:{order.id}" if order else f"ref:{reference}"
    if order_total is None and order is not None:
        order_total = order.total
    voucher = get_voucher(session, merchant_id, code)
    now = utcnow()
    if voucher.status == "issued" and not _past(voucher, now):
        _check_minimum(voucher, order_total)
        if _burn(session, voucher, now, used_reference, order, order_total):
            return Use(voucher, replayed=False)
    if voucher.status == "used" and voucher.used_reference == used_reference:
        return Use(voucher, replayed=True)
    raise _unusable(voucher, now)


def _check_minimum(voucher: Voucher, order_total: Decimal | None) -> None:
    if order_total is not None and Decimal(order_total) < voucher.min_order:
        raise ValidationError(
            f"voucher {voucher.code} needs an order of at least {voucher.min_order}",
            details={"order_total": [f"at least {voucher.min_order}"]},
            code="order_below_minimum",
        )


def _burn(
    session: Session,
    voucher: Voucher,
    now: datetime,
    used_reference: str,
    order: Any,
    order_total: Decimal | None,
) -> bool:
    """Mark an issued voucher used and emit ``voucher.used``; False when another use won."""
    burned = session.execute(
        update(Voucher)
        .where(Voucher.id == voucher.id, Voucher.status == "issued")
        .values(
            status="used",
            used_at=now,
            used_reference=used_reference,
            used_order_id=order.id if order else None,
            used_order_total=order_total,
            used_discount=discount_for(voucher, order_total),
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(voucher)
    if burned.rowcount != 1:
        return False
    emit(
        session,
        "voucher.used",
        voucher.merchant_id,
        {
            **voucher_event(voucher),
            "used_reference": used_reference,
            "order_id": voucher.used_order_id,
            "discount": _text(voucher.used_discount),
        },
    )
    return True


def _unusable(voucher: Voucher, now: datetime) -> Conflict:
    status = effective_status(voucher, now)
    if status == "used":
        return Conflict(
            f"voucher {voucher.code} was already used ({voucher.used_reference}) at "
            f"{voucher.used_at.isoformat()}",
            details={"code": ["already used on another order"]},
            code="voucher_already_used",
        )
    return Conflict(
        f"voucher {voucher.code} cannot be used: {_REASONS.get(status, status)}",
        details={"code": [status]},
        code=f"voucher_{status}",
    )


def cancel_voucher(
    session: Session, voucher: Voucher, *, actor: str = "system", note: str = ""
) -> Voucher:
    """Cancel an unused voucher and give its points back to the lots they came from.

    Points whose lots have expired since are not returned (``points_returned``
    says how many came back). Cancelling a cancelled voucher changes nothing.
    :raise Conflict: the voucher was used or has expired.
    """
    member = ledger.lock_member(session, session.get(Member, voucher.member_id))
    now = utcnow()
    # Guarded like a use: of a cancel and a use racing, exactly one changes the row.
    cancelled = session.execute(
        update(Voucher)
        .where(
            Voucher.id == voucher.id,
            Voucher.status == "issued",
            or_(Voucher.expires_at.is_(None), Voucher.expires_at > now),
        )
        .values(status="cancelled", cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(voucher)
    if cancelled.rowcount != 1:
        if voucher.status == "cancelled":
            return voucher
        raise _unusable(voucher, now)
    debit = session.get(PointEntry, voucher.debit_entry_id) if voucher.debit_entry_id else None
    if debit is not None:
        try:
            posted = ledger.give_back(
                session,
                member,
                debit,
                key=f"redeem:{voucher.id}:cancel",
                note=note or f"voucher {voucher.code} cancelled",
                actor=actor,
            )
            voucher.points_returned = posted.entry.points
        except HubError as exc:
            if exc.code != "points_expired":
                raise
    _restock(session, voucher)
    session.flush()
    emit(
        session,
        "voucher.cancelled",
        voucher.merchant_id,
        {**voucher_event(voucher), "points_returned": voucher.points_returned},
    )
    return voucher


def _restock(session: Session, voucher: Voucher) -> None:
    if voucher.reward_id is None:
        return
    session.execute(
        update(Reward)
        .where(Reward.id == voucher.reward_id, Reward.stock.is_not(None))
        .values(stock=Reward.stock + 1)
        .execution_options(synchronize_session=False)
    )


def expire_due(now: str | None = None, batch: int = 500) -> int:
    """Periodic job: mark every issued voucher past its date expired; return how many.

    Points are not returned for an expired voucher; its reward's stock is.
    ``now`` (ISO 8601, aware) replaces the clock. Running it again changes nothing.
    """
    from hub.core import current_hub

    hub = current_hub()
    moment = datetime.fromisoformat(now) if now else utcnow()
    done = 0
    while True:
        with hub.db.session() as session:
            ids = list(
                session.scalars(
                    select(Voucher.id)
                    .where(Voucher.status == "issued", Voucher.expires_at <= moment)
                    .order_by(Voucher.id)
                    .limit(batch)
                )
            )
        for voucher_id in ids:
            with hub.db.transaction() as session:
                done += _expire(session, voucher_id, moment)
        if len(ids) < batch:
            return done


def _expire(session: Session, voucher_id: int, now: datetime) -> int:
    expired = session.execute(
        update(Voucher)
        .where(Voucher.id == voucher_id, Voucher.status == "issued", Voucher.expires_at <= now)
        .values(status="expired", expired_at=now)
        .execution_options(synchronize_session=False)
    )
    if expired.rowcount != 1:
        return 0
    voucher = session.get(Voucher, voucher_id)
    session.refresh(voucher)
    _restock(session, voucher)
    emit(session, "voucher.expired", voucher.merchant_id, voucher_event(voucher))
    return 1


def voucher_status(hub: Hub, merchant_id: int, code: str) -> str | None:
    """The voucher's status now (issued, used, cancelled, expired), or None when unknown.

    For a connector about to push a code to a store, or just done: a voucher
    cancelled meanwhile must not stay usable there.
    """
    with hub.db.session() as session:
        return session.scalar(
            select(Voucher.status).where(Voucher.merchant_id == merchant_id, Voucher.code == code)
        )


def voucher_event(voucher: Voucher) -> dict[str, Any]:
    """The voucher as events carry it: enough for a connector to push the code to a store."""
    return {
        "voucher_id": voucher.id,
        "code": voucher.code,
        "member_id": voucher.member_id,
        "reward_id": voucher.reward_id,
        "kind": voucher.kind,
        "value": _text(voucher.value),
        "max_discount": _text(voucher.max_discount),
        "product_sku": voucher.product_sku,
        "min_order": _text(voucher.min_order),
        "currency": voucher.currency,
        "expires_at": voucher.expires_at.isoformat() if voucher.expires_at else None,
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


@hookimpl(trylast=True)
def register_periodic_jobs():
    """Expire vouchers once a day."""
    return [
        PeriodicJob(
            name="vouchers.expire", func="hub.rewards.vouchers.expire_due", cron="10 0 * * *"
        )
    ]
