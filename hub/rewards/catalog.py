"""The rewards catalog, and redeeming points for a reward's voucher.

A redemption is one transaction: a per-member limit counted under the
member's row lock, the stock decremented with a guarded ``UPDATE ... WHERE
stock > 0``, the voucher written and the points debited from the member's
lots (``ledger.debit``, which takes the member's lock, counts the points
available under it and refuses to go below zero). Anything that fails rolls
all of it back, so fifty concurrent redemptions of a
balance good for one issue exactly one voucher, on PostgreSQL and SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub import audit
from hub.errors import Conflict
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.events import emit_many
from hub.metrics import count
from hub.models import Member
from hub.models import PointEntry
from hub.models.rewards import Reward
from hub.models.rewards import Voucher
from hub.models.tiers import Tier
from hub.points import ledger
from hub.rewards.vouchers import issue_voucher
from hub.rewards.vouchers import voucher_event
from hub.tiers.ladder import get_tier
from hub.tiers.ladder import rank
from hub.tiers.membership import current_tier

if TYPE_CHECKING:
    from hub.core import Hub

KINDS = ("amount_off", "percent_off", "free_shipping", "free_product", "store_credit")
REWARD_FIELDS = (
    "name",
    "description",
    "kind",
    "value",
    "max_discount",
    "product_sku",
    "points_cost",
    "min_order",
    "validity_days",
    "min_tier_id",
    "stock",
    "per_member_limit",
    "active",
)


def list_rewards(
    session: Session,
    merchant_id: int,
    *,
    active: bool | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[Reward]:
    """The merchant's rewards by id, optionally only the active (or inactive) ones."""
    query = select(Reward).where(Reward.merchant_id == merchant_id)
    if active is not None:
        query = query.where(Reward.active.is_(active))
    if after_id:
        query = query.where(Reward.id > after_id)
    return list(session.scalars(query.order_by(Reward.id).limit(limit)))


def redemptions_per_reward(session: Session, merchant_id: int) -> dict[int, int]:
    """How many vouchers each reward has issued (redemptions), by reward id."""
    rows = session.execute(
        select(Voucher.reward_id, func.count())
        .where(Voucher.merchant_id == merchant_id, Voucher.reward_id.is_not(None))
        .group_by(Voucher.reward_id)
    )
    return {reward_id: count for reward_id, count in rows}


def get_reward(session: Session, merchant_id: int, reward_id: int) -> Reward:
    """Return the merchant's reward; another merchant's id is simply not found."""
    reward = session.get(Reward, reward_id)
    if reward is None or reward.merchant_id != merchant_id:
        raise NotFound(f"reward {reward_id} not found", code="reward_not_found")
    return reward


def create_reward(
    session: Session, merchant_id: int, data: dict[str, Any], *, actor: str
) -> Reward:
    """Add a reward to the catalog.

    :raise ValidationError: a field does not fit the reward's kind.
    """
    values = {k: v for k, v in data.items() if k in REWARD_FIELDS}
    values.setdefault("min_order", Decimal(0))
    values.setdefault("active", True)
    values.setdefault("description", "")
    reward = Reward(merchant_id=merchant_id, **values)
    _check(session, reward)
    session.add(reward)
    session.flush()
    audit.record(
        session,
        merchant_id,
        actor=actor,
        action="reward.created",
        object_type="reward",
        object_id=reward.id,
        data={"name": reward.name},
    )
    return reward


def update_reward(
    session: Session, reward: Reward, changes: dict[str, Any], *, actor: str
) -> Reward:
    """Change some fields; vouchers already issued keep the terms they were issued with."""
    for name in REWARD_FIELDS:
        if name in changes:
            setattr(reward, name, changes[name])
    _check(session, reward)
    session.flush()
    audit.record(
        session,
        reward.merchant_id,
        actor=actor,
        action="reward.updated",
        object_type="reward",
        object_id=reward.id,
        data={k: str(v) for k, v in changes.items()},
    )
    return reward


def delete_reward(session: Session, reward: Reward, *, actor: str) -> None:
    """Delete a reward nobody has redeemed yet.

    :raise Conflict: vouchers were issued for it; deactivate it instead.
    """
    issued = session.scalar(select(func.count(Voucher.id)).where(Voucher.reward_id == reward.id))
    if issued:
        raise Conflict(
            f"reward {reward.id} has {issued} vouchers; set active to false instead of deleting",
            details={"active": ["set to false to withdraw the reward"]},
            code="reward_in_use",
        )
    audit.record(
        session,
        reward.merchant_id,
        actor=actor,
        action="reward.deleted",
        object_type="reward",
        object_id=reward.id,
        data={"name": reward.name},
    )
    session.delete(reward)
    session.flush()


def _check(session: Session, reward: Reward) -> None:
    errors: dict[str, list[str]] = {}
    if reward.kind not in KINDS:
        raise ValidationError(
            f"unknown reward kind {reward.kind!r}", details={"kind": [f"one of {', '.join(KINDS)}"]}
        )
    if not reward.name:
        errors["name"] = ["required"]
    if reward.points_cost is None or reward.points_cost < 1:
        errors["points_cost"] = ["a whole number of points, at least 1"]
    value = None if reward.value is None else Decimal(reward.value)
    if reward.kind in ("amount_off", "store_credit") and (value is None or value <= 0):
        errors["value"] = [f"the amount a {reward.kind} reward is worth, more than 0"]
    if reward.kind == "percent_off" and (value is None or not 0 < value <= 100):
        errors["value"] = ["the percent off, more than 0 and at most 100"]
    if reward.kind == "free_product" and not reward.product_sku:
        errors["product_sku"] = ["the SKU of the free product"]
    if reward.max_discount is not None and Decimal(reward.max_discount) <= 0:
        errors["max_discount"] = ["more than 0, or null for no cap"]
    if reward.min_order is not None and Decimal(reward.min_order) < 0:
        errors["min_order"] = ["0 or more"]
    for name in ("validity_days", "per_member_limit"):
        if getattr(reward, name) is not None and getattr(reward, name) < 1:
            errors[name] = ["at least 1, or null for none"]
    if reward.stock is not None and reward.stock < 0:
        errors["stock"] = ["0 or more, or null for unlimited"]
    if errors:
        raise ValidationError(f"reward {reward.name!r} is not valid; see details", details=errors)
    if reward.min_tier_id is not None:
        # Looked up before the changed reward is flushed: a tier that is not the
        # merchant's answers 404 instead of failing the foreign key on flush.
        with session.no_autoflush:
            get_tier(session, reward.merchant_id, reward.min_tier_id)


@dataclass(frozen=True)
class Redemption:
    """A redemption's result: the voucher, the ledger entry, the balance after."""

    voucher: Voucher
    entry: PointEntry
    balance: int


def redeem(hub: Hub, session: Session, member: Member, reward: Reward, *, actor: str) -> Redemption:
    """Spend the member's points on ``reward``: debit the ledger and issue a voucher.

    Runs inside the caller's transaction, which is to be rolled back when this
    raises: the stock taken and the voucher written before a refusal go with it
    (``hub.db.Database.transaction`` does so). The reward is the one loaded in
    that transaction: its stock, as loaded, says whether stock is counted.
    :raise ValidationError: the reward is inactive, needs a higher tier, or a
        ``check_redemption`` plugin refused (its reason is the message).
    :raise Conflict: too few points (``insufficient_points``), out of stock,
        or the member's limit for this reward is reached.
    """
    refusal = _refusal(hub, session, member, reward)
    if refusal is not None:
        raise refusal
    if reward.per_member_limit is not None:
        ledger.lock_member(session, member)  # the vouchers held are counted under it
        _check_limit(session, member, reward)
    _take_stock(session, reward)
    voucher = issue_voucher(session, member, reward, actor=actor)
    posted = _debit(session, member, reward, voucher, actor)
    voucher.debit_entry_id = posted.entry.id  # flushed at commit
    redeemed = {
        "member_id": member.id,
        "reward_id": reward.id,
        "voucher_id": voucher.id,
        "points": reward.points_cost,
        "entry_id": posted.entry.id,
        "balance": posted.balance,
    }
    emit_many(
        session,
        member.merchant_id,
        [("points.redeemed", redeemed), ("voucher.issued", voucher_event(voucher))],
    )
    count("redemptions")
    count("points_redeemed", reward.points_cost)
    return Redemption(voucher=voucher, entry=posted.entry, balance=posted.balance)


def _debit(
    session: Session, member: Member, reward: Reward, voucher: Voucher, actor: str
) -> ledger.Posted:
    """Debit the reward's points for ``voucher``: the guard against spending points twice.

    The debit takes the member's lock (if not held yet) and checks the points
    available under it: of two redemptions racing for the last points, one is
    refused here, and its caller's transaction, stock and voucher included,
    is rolled back.
    """
    try:
        return ledger.debit(
            session,
            member,
            reward.points_cost,
            kind="redeem",
            key=f"redeem:{voucher.id}",
            reference=f"voucher:{voucher.id}",
            note=f"redeemed for {reward.name}",
            actor=actor,
            data={"reward_id": reward.id, "voucher_id": voucher.id},
        )
    except ledger.InsufficientPoints as short:
        raise ledger.InsufficientPoints(
            f"member {member.id} has {short.details['available']} points available; "
            f"{reward.name!r} costs {reward.points_cost}",
            details=short.details,
        ) from None


def _refusal(hub: Hub, session: Session, member: Member, reward: Reward) -> Exception | None:
    if member.status != "active":
        return ValidationError(
            f"member {member.id} is {member.status} and cannot redeem", code="member_not_active"
        )
    if not reward.active:
        return ValidationError(
            f"reward {reward.name!r} is not available now",
            details={"reward_id": ["inactive"]},
            code="reward_inactive",
        )
    if reward.min_tier_id is not None:
        required = session.get(Tier, reward.min_tier_id)
        if rank(current_tier(session, member)) < rank(required):
            return ValidationError(
                f"{reward.name!r} is for members in tier {required.name!r} or above",
                details={"reward_id": [f"needs tier {required.name}"]},
                code="tier_required",
            )
    reason = hub.pm.hook.check_redemption(hub=hub, session=session, member=member, reward=reward)
    if reason:
        return ValidationError(
            str(reason), details={"reward_id": [str(reason)]}, code="redemption_refused"
        )
    return None


def _check_limit(session: Session, member: Member, reward: Reward) -> None:
    # Counted under the member's row lock: two redemptions of one member
    # cannot both see the count below the limit.
    if reward.per_member_limit is None:
        return
    held = session.scalar(
        select(func.count(Voucher.id)).where(
            Voucher.member_id == member.id,
            Voucher.reward_id == reward.id,
            Voucher.status != "cancelled",
        )
    )
    if held >= reward.per_member_limit:
        raise Conflict(
            f"member {member.id} already redeemed {reward.name!r} {held} times, "
            f"the most a member may",
            details={"reward_id": [f"limit of {reward.per_member_limit} per member reached"]},
            code="redemption_limit_reached",
        )


def _take_stock(session: Session, reward: Reward) -> None:
    """Take one of the reward's stock, if its stock (as loaded in this transaction) is counted.

    The guarded ``UPDATE`` takes one only while some is left, so two
    redemptions of the last one cannot both have it; a stock made unlimited
    since it was loaded is left unlimited.
    """
    if reward.stock is None:
        return
    taken = session.execute(_TAKE_ONE, {"reward_id": reward.id}).first()
    session.expire(reward, ["stock"])
    if taken is None:
        raise Conflict(
            f"reward {reward.name!r} is out of stock",
            details={"reward_id": ["out of stock"]},
            code="out_of_stock",
        )


_TAKE_ONE = (
    update(Reward)
    .where(Reward.id == bindparam("reward_id"), or_(Reward.stock.is_(None), Reward.stock > 0))
    .values(stock=Reward.stock - 1)
    .returning(Reward.id)
    .execution_options(synchronize_session=False)
)
