"""Vouchers and rewards at the counter: check a code, burn it on a receipt, redeem a reward.

Burning is the core's guarded ``UPDATE ... WHERE status = 'issued'``: of two
counters burning one code at once, exactly one wins and the other answers
409. A burn names the receipt it pays for, so the same burn sent again (a
till retrying after a timeout) answers the same result.

A reward redemption has no natural key, so the counter sends a request id
of its own; the first request with an id stores its answer, in the same
transaction, and a retry gets that answer back instead of a second voucher.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from connectors.pos.members import Found
from connectors.pos.members import money
from connectors.pos.members import voucher_view
from connectors.pos.models import PosRequest
from hub import Conflict
from hub import get_reward
from hub import list_rewards
from hub import redeem_reward
from hub import use_voucher
from hub import utcnow
from hub import validate_voucher

if TYPE_CHECKING:
    from connectors.pos.keys import Counter
    from hub import Hub


def voucher_reference(counter: Counter, receipt: str) -> str:
    """How a burn names its receipt: unique per counter, the same on every retry."""
    return f"pos:{counter.connection_id}:{receipt}"


def check_voucher(
    session: Session, counter: Counter, code: str, amount: Decimal | None
) -> dict[str, Any]:
    """Say whether a code can be used now on a bill of ``amount``, and for how much."""
    check = validate_voucher(session, counter.merchant_id, code, amount)
    return {
        "valid": check.valid,
        "reason": check.reason,
        "message": check.message,
        "discount": money(check.discount),
        "voucher": voucher_view(check.voucher) if check.voucher else None,
    }


def burn_voucher(
    session: Session, counter: Counter, code: str, receipt: str, amount: Decimal | None
) -> dict[str, Any]:
    """Use the code on this receipt; the same burn again answers ``replayed``.

    :raise Conflict: used on another receipt, cancelled or expired (409).
    """
    use = use_voucher(
        session,
        counter.merchant_id,
        code,
        reference=voucher_reference(counter, receipt),
        order_total=amount,
        actor=counter.actor,
    )
    voucher = use.voucher
    return {
        "replayed": use.replayed,
        "receipt": receipt,
        "discount": money(voucher.used_discount),
        "voucher": {**voucher_view(voucher), "status": voucher.status},
    }


def catalog(session: Session, counter: Counter) -> list[dict[str, Any]]:
    """The active rewards a member can redeem points for, cheapest first."""
    rewards = list_rewards(session, counter.merchant_id, active=True, limit=200)
    return [
        {
            "id": r.id,
            "name": r.name,
            "kind": r.kind,
            "value": money(r.value),
            "points_cost": r.points_cost,
            "min_order": money(r.min_order),
            "min_tier_id": r.min_tier_id,
            "stock": r.stock,
        }
        for r in sorted(rewards, key=lambda r: (r.points_cost, r.id))
    ]


def _claim_request(
    session: Session, counter: Counter, request_id: str, kind: str, digest: str
) -> int | None:
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    statement = (
        dialect.insert(PosRequest)
        .values(
            merchant_id=counter.merchant_id,
            connection_id=counter.connection_id,
            request_id=request_id,
            kind=kind,
            fingerprint=digest,
            answer={},
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["connection_id", "request_id"])
        .returning(PosRequest.id)
    )
    return session.execute(statement).scalar_one_or_none()


def _earlier_answer(
    session: Session, counter: Counter, request_id: str, digest: str
) -> dict[str, Any]:
    earlier = session.scalars(
        select(PosRequest).where(
            PosRequest.connection_id == counter.connection_id,
            PosRequest.request_id == request_id,
        )
    ).first()
    if earlier is None or earlier.fingerprint != digest:
        raise Conflict(
            f"request id {request_id!r} was already used for another action; "
            f"send a new request id for a new action",
            details={"request_id": ["already used"]},
            code="request_id_reused",
        )
    return {**earlier.answer, "replayed": True}


def redeem_at_counter(
    hub: Hub,
    session: Session,
    counter: Counter,
    found: Found,
    reward_id: int,
    request_id: str,
) -> dict[str, Any]:
    """Spend the member's points on a reward and issue its voucher, once per request id.

    :raise Conflict: too few points, out of stock, the member's limit reached,
        or the request id used for something else.
    :raise ValidationError: an inactive reward or a tier it needs.
    """
    what = {"member_id": found.member.id, "reward_id": reward_id}
    digest = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()
    claimed = _claim_request(session, counter, request_id, "redemption", digest)
    if claimed is None:
        return _earlier_answer(session, counter, request_id, digest)
    reward = get_reward(session, counter.merchant_id, reward_id)
    result = redeem_reward(hub, session, found.member, reward, actor=counter.actor)
    answer = {
        "replayed": False,
        "voucher": voucher_view(result.voucher),
        "points_spent": -result.entry.points,
        "balance": result.balance,
    }
    session.get(PosRequest, claimed).answer = answer
    return answer
