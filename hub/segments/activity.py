"""Condition kinds about what a member did: orders, spending, expiring points, vouchers.

A member's orders are their paid orders as the points engine counted them
(``order_accruals``: one row per paid order, ``spent`` net of refunds,
``cancelled`` once cancelled), dated by when the order was placed. A
range that includes zero also takes members with nothing counted: "spent at
most 500,000 in the last 90 days" includes members who bought nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import not_
from sqlalchemy import select

from hub.models import Member
from hub.models import Order
from hub.models import OrderAccrual
from hub.models import PointLot
from hub.models import Voucher
from hub.segments import dialect
from hub.segments.conditions import SegmentCondition
from hub.segments.conditions import SegmentContext
from hub.segments.ranges import AmountRange
from hub.segments.ranges import CountRange
from hub.segments.ranges import DateRange
from hub.segments.ranges import days_field
from hub.segments.ranges import in_dates
from hub.segments.ranges import in_range
from hub.segments.ranges import zero_in


class SpentFields(AmountRange):
    within_days = days_field()


class OrderCountFields(CountRange):
    within_days = days_field()


def _counted(context: SegmentContext, within_days: int | None) -> Select:
    """Counted orders of the merchant's members, in the last ``within_days`` days if given."""
    query = select(OrderAccrual.member_id).where(
        OrderAccrual.merchant_id == context.merchant_id, OrderAccrual.cancelled.is_(False)
    )
    if within_days is not None:
        query = query.join(Order, Order.id == OrderAccrual.order_id).where(
            Order.placed_at >= context.window_start(within_days)
        )
    return query.group_by(OrderAccrual.member_id)


def _per_member(
    query: Select, total: ColumnElement[Any], low: Any, high: Any, *, with_zero: bool
) -> ColumnElement[bool]:
    """Members whose ``total`` over ``query`` lies in [low, high]; with ``with_zero``, also
    those without rows (whose total is zero)."""
    if with_zero:
        return not_(Member.id.in_(query.having(not_(in_range(total, low, high)))))
    return Member.id.in_(query.having(in_range(total, low, high)))


def _total_spent(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    low = None if data.get("min") is None else dialect.money_value(context, data["min"])
    high = None if data.get("max") is None else dialect.money_value(context, data["max"])
    if data.get("within_days") is None:
        return in_range(dialect.money(context, Member.total_spent), low, high)
    total = dialect.money_total(context, OrderAccrual.spent)
    query = _counted(context, data["within_days"])
    return _per_member(query, total, low, high, with_zero=zero_in(data.get("min"), data.get("max")))


def _order_count(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    query = _counted(context, data.get("within_days"))
    low, high = data.get("min"), data.get("max")
    return _per_member(query, func.count(), low, high, with_zero=zero_in(low, high))


def _order_date(first: bool):
    def compile_(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
        placed = (func.min if first else func.max)(Order.placed_at)
        query = (
            select(OrderAccrual.member_id)
            .join(Order, Order.id == OrderAccrual.order_id)
            .where(
                OrderAccrual.merchant_id == context.merchant_id,
                OrderAccrual.cancelled.is_(False),
            )
            .group_by(OrderAccrual.member_id)
            .having(in_dates(context, placed, data))
        )
        return Member.id.in_(query)

    return compile_


class ExpiringFields(Schema):
    within_days = fields.Int(strict=True, required=True, validate=validate.Range(min=0, max=3650))
    min_points = fields.Int(strict=True, load_default=1, validate=validate.Range(min=1, max=10**15))


def _points_expiring(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    """Points left in lots that expire from now to the end of local day today + N."""
    until = context.day_start(context.today + timedelta(days=data["within_days"] + 1))
    query = (
        select(PointLot.member_id)
        .where(
            PointLot.merchant_id == context.merchant_id,
            PointLot.remaining > 0,
            PointLot.expires_at > context.now,
            PointLot.expires_at < until,
        )
        .group_by(PointLot.member_id)
        .having(func.sum(PointLot.remaining) >= data["min_points"])
    )
    return Member.id.in_(query)


class VoucherFields(Schema):
    used = fields.Bool(load_default=True)
    reward_ids = fields.List(
        fields.Int(strict=True, validate=validate.Range(min=1, max=2**63 - 1)),
        validate=validate.Length(min=1, max=200),
    )
    within_days = days_field()


def _voucher(context: SegmentContext, data: dict[str, Any]) -> ColumnElement[bool]:
    """Members who used (or never used) a voucher, of the rewards named, in the window given."""
    clauses = [Voucher.merchant_id == context.merchant_id, Voucher.status == "used"]
    if data.get("reward_ids"):
        clauses.append(Voucher.reward_id.in_(data["reward_ids"]))
    if data.get("within_days") is not None:
        clauses.append(Voucher.used_at >= context.window_start(data["within_days"]))
    found = Member.id.in_(select(Voucher.member_id).where(and_(*clauses)))
    return found if data["used"] else not_(found)


ACTIVITY_KINDS = [
    SegmentCondition("total_spent", "Total spent", SpentFields, _total_spent),
    SegmentCondition("order_count", "Number of orders", OrderCountFields, _order_count),
    SegmentCondition("first_order", "First order date", DateRange, _order_date(first=True)),
    SegmentCondition("last_order", "Last order date", DateRange, _order_date(first=False)),
    SegmentCondition("points_expiring", "Points expiring soon", ExpiringFields, _points_expiring),
    SegmentCondition(
        "voucher", "Used a voucher", VoucherFields, _voucher, references={"reward_ids": "rewards"}
    ),
]
