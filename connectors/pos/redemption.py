"""Points as a discount on a sale: the connection's terms, and what a redemption is worth.

A merchant switches it on per POS connection (``PUT /api/v1/pos/connections/
<id>/redemption``), stored in the connection's ``redeem_points`` setting:

* ``point_value``: what one point takes off the bill, in the merchant's currency;
* ``max_percent``: the most of the bill (before the points discount) points may pay;
* ``min_points``: the fewest points a sale may redeem.
"""

from __future__ import annotations

from decimal import ROUND_DOWN
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from marshmallow import fields
from marshmallow import validate

from hub import ValidationError

if TYPE_CHECKING:
    from connectors.pos.keys import Counter

SETTING = "redeem_points"
MAX_POINT_VALUE = Decimal(10) ** 6
#: The largest discount points may give on one sale, as the largest sale amount.
MAX_DISCOUNT = Decimal(10) ** 15


def _point_value(value: Decimal) -> None:
    if not 0 < value <= MAX_POINT_VALUE:
        raise SchemaError(f"must be more than 0 and at most {MAX_POINT_VALUE}")


def _percent(value: Decimal) -> None:
    if not 0 < value <= 100:
        raise SchemaError("must be more than 0 and at most 100")


class RedemptionTermsSchema(Schema):
    """Terms of redeeming points at this POS connection's counters."""

    enabled = fields.Bool(load_default=False)
    point_value = fields.Decimal(
        as_string=True,
        load_default=Decimal(1),
        allow_nan=False,
        validate=_point_value,
        metadata={"type": "string", "format": "decimal", "example": "100"},
    )
    max_percent = fields.Decimal(
        as_string=True,
        load_default=Decimal(100),
        allow_nan=False,
        validate=_percent,
        metadata={"type": "string", "format": "decimal", "example": "50"},
    )
    min_points = fields.Int(load_default=1, validate=validate.Range(min=1, max=10**9))


def load_terms(raw: Any) -> dict[str, Any]:
    """Validate terms as a merchant sends them; return them as stored (decimals as strings)."""
    schema = RedemptionTermsSchema()
    try:
        return schema.dump(schema.load(raw or {}))
    except SchemaError as exc:
        raise ValidationError(
            "the points redemption terms are not valid; see details", details=exc.messages
        ) from None


def _terms(counter: Counter) -> dict[str, Any] | None:
    raw = counter.settings.get(SETTING)
    if not isinstance(raw, dict) or not raw.get("enabled"):
        return None
    try:
        return RedemptionTermsSchema().load(raw)
    except SchemaError:
        return None  # terms edited by hand into nonsense: redemption stays off


def redemption_terms(counter: Counter, available: int) -> dict[str, Any]:
    """The terms as the counter sees them, with the most points this member can redeem."""
    terms = _terms(counter)
    if terms is None:
        return {"enabled": False}
    return {
        "enabled": True,
        "point_value": _text(terms["point_value"]),
        "max_percent": _text(terms["max_percent"]),
        "min_points": terms["min_points"],
        "max_points": max(available, 0),
    }


def discount_for_points(counter: Counter, points: int, paid: Decimal) -> Decimal:
    """Return what ``points`` take off a sale whose customer paid ``paid`` after it.

    :raise ValidationError: redemption is off at this connection, fewer points
        than the minimum, or more discount than ``max_percent`` of the bill.
    """
    terms = _terms(counter)
    if terms is None:
        raise ValidationError(
            f"points cannot be redeemed at POS connection {counter.connection_id}; the "
            f"merchant can switch it on with PUT /api/v1/pos/connections/"
            f"{counter.connection_id}/redemption",
            details={"redeem_points": ["redemption is off at this counter"]},
            code="redemption_disabled",
        )
    if points < terms["min_points"]:
        raise ValidationError(
            f"redeem at least {terms['min_points']} points",
            details={"redeem_points": [f"at least {terms['min_points']}"]},
            code="below_min_points",
        )
    discount = Decimal(points) * terms["point_value"]
    if discount > MAX_DISCOUNT:
        raise ValidationError(
            f"{points} points are worth more than any sale",
            details={"redeem_points": ["too many points for one sale"]},
            code="redemption_over_limit",
        )
    bill = Decimal(paid) + discount
    ceiling = (bill * terms["max_percent"] / 100).quantize(Decimal("0.0001"), ROUND_DOWN)
    if discount > ceiling:
        most = int(ceiling / terms["point_value"])
        raise ValidationError(
            f"{points} points take {_text(discount)} off a bill of {_text(bill)}; points may "
            f"pay at most {_text(terms['max_percent'])}% of it, {most} points",
            details={"redeem_points": [f"at most {most} for this sale"]},
            code="redemption_over_limit",
        )
    return discount


def _text(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")
