"""Product bonus: extra points for chosen SKUs, products or collections.

Program settings, section ``rules.product_bonus``::

    {"items": [
        {"sku": "TRA-SEN", "points": 50},            # 50 extra points per unit
        {"collection": "tet-2026", "multiplier": 2}  # the line earns twice
    ]}

Each item names one of ``sku``, ``product_id`` or ``collection`` and gives
either fixed ``points`` per unit or a ``multiplier`` of what the line earns
at the program's rate (the line's share of the earning base, so order
discounts and excluded amounts count). The first item matching a line
applies to it; gift card lines never match. The award's rule is
``product_bonus``.
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from hub import Award
from hub import ProgramRule
from hub import hookimpl

RULE = "product_bonus"
MATCHERS = ("sku", "product_id", "collection")


class ItemSchema(Schema):
    sku = fields.Str(validate=validate.Length(min=1, max=100))
    product_id = fields.Str(validate=validate.Length(min=1, max=100))
    collection = fields.Str(validate=validate.Length(min=1, max=100))
    points = fields.Int(validate=validate.Range(min=1, max=1_000_000))
    multiplier = fields.Decimal(
        as_string=True, validate=validate.Range(min=1, min_inclusive=False, max=100)
    )

    @validates_schema
    def _one_of_each(self, data, **_):
        if sum(name in data for name in MATCHERS) != 1:
            raise ValidationError("give exactly one of sku, product_id or collection")
        if ("points" in data) == ("multiplier" in data):
            raise ValidationError("give either points (per unit) or multiplier")


class ProductBonusSchema(Schema):
    enabled = fields.Bool(load_default=True)
    items = fields.List(
        fields.Nested(ItemSchema), required=True, validate=validate.Length(min=1, max=500)
    )


def _matches(item: dict, line) -> bool:
    if "sku" in item:
        return line.sku == item["sku"]
    if "product_id" in item:
        return line.product_id == item["product_id"]
    return item["collection"] in line.collections


def _line_amount(line) -> Decimal:
    return max(line.price * line.quantity - line.total_discount, Decimal(0))


@hookimpl
def register_program_rules(hub):
    return [
        ProgramRule(
            name=RULE,
            title="Product bonus",
            schema=ProductBonusSchema,
            description="Extra points (per unit, or a multiplier) for chosen products",
        )
    ]


@hookimpl
def points_for_order(order, program):
    settings = program.rule(RULE)
    if settings is None:
        return None
    lines = [line for line in order.lines if not line.gift_card]
    gross = sum((_line_amount(line) for line in lines), Decimal(0))
    base = program.earning_base(order)
    total, notes = 0, []
    for line in lines:
        item = next((i for i in settings["items"] if _matches(i, line)), None)
        if item is None:
            continue
        label = line.sku or line.product_id or line.title or "line"
        if "points" in item:
            extra = item["points"] * line.quantity
            notes.append(f"{label} x{line.quantity}: +{extra}")
        else:
            share = base * _line_amount(line) / gross if gross > 0 else Decimal(0)
            extra = int(program.points_for(share) * (item["multiplier"] - 1))
            notes.append(f"{label} x{item['multiplier']}: +{extra}")
        total += extra
    if total <= 0:
        return None
    return [Award(points=total, rule=RULE, note="; ".join(notes))]
