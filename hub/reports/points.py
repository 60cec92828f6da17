"""The points report: issued by reason, redeemed, expired, reversed; outstanding and liability.

Read from the daily rollups (``points`` rows, one per kind, sign and rule),
except the points due to expire, which are the live lots' remainders now.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import PointLot
from hub.models import Reward
from hub.reports.periods import Period
from hub.reports.reading import Sums
from hub.reports.reading import before
from hub.reports.reading import by_day
from hub.reports.reading import totals

ISSUING_KINDS = ("earn", "bonus", "import", "adjust")
#: What each kind and sign of entry is in the report.
BUCKETS = {
    ("redeem", "-"): "redeemed",
    ("reverse", "+"): "returned",
    ("reverse", "-"): "reversed",
    ("expire", "-"): "expired",
    ("adjust", "-"): "deducted",
}
FIGURES = ("issued", "redeemed", "returned", "expired", "reversed", "deducted")
EXPIRY_HORIZONS = (30, 60, 90)
#: Rewards whose value is money: the catalogue's cost per point is read from them.
MONEY_REWARDS = ("amount_off", "store_credit")


def bucket(dimension: str) -> tuple[str, str | None]:
    """``(figure, reason)`` of a ``kind:sign:rule`` dimension; reason only for issued points."""
    kind, sign, rule = ([*dimension.split(":", 2), "", ""])[:3]
    if sign == "+" and kind in ISSUING_KINDS:
        return "issued", (f"{kind}:{rule}" if rule and kind in ("earn", "bonus") else kind)
    return BUCKETS.get((kind, sign), "other"), None


def _figures(rows: dict[str, Sums]) -> tuple[dict[str, int], dict[str, int]]:
    figures = dict.fromkeys(FIGURES, 0)
    reasons: dict[str, int] = {}
    for dimension, sums in rows.items():
        figure, reason = bucket(dimension)
        if figure in figures:
            figures[figure] += abs(sums.points)
        if reason is not None:
            reasons[reason] = reasons.get(reason, 0) + sums.points
    return figures, reasons


def _summary(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    found = {d: s for (m, d), s in totals(session, merchant_id, within).items() if m == "points"}
    figures, reasons = _figures(found)
    net_redeemed = figures["redeemed"] - figures["returned"]
    outstanding = before(session, merchant_id, "points", within.last + timedelta(days=1)).points
    return {
        **figures,
        "issued_by_reason": dict(sorted(reasons.items())),
        "redemption_rate": _rate(net_redeemed, figures["issued"]),
        "outstanding": outstanding,
    }


def _rate(part: int, whole: int) -> str | None:
    """``part / whole`` to four places, as text; None when ``whole`` is zero."""
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")))


def points_report(
    session: Session, merchant_id: int, within: Period, now: datetime
) -> dict[str, Any]:
    """The points report for ``within`` and the period before it."""
    current = _summary(session, merchant_id, within)
    value = point_value(session, merchant_id)
    current["point_value"] = None if value is None else str(value)
    current["liability"] = None if value is None else str(_money(value * current["outstanding"]))
    current["expiring"] = expiring(session, merchant_id, now)
    return {
        "report": "points",
        "period": within.to_dict(),
        "previous_period": within.previous().to_dict(),
        "totals": current,
        "previous_totals": _summary(session, merchant_id, within.previous()),
        "series": _series(session, merchant_id, within),
    }


def _series(session: Session, merchant_id: int, within: Period) -> list[dict[str, Any]]:
    days = by_day(session, merchant_id, within, "points")
    running = before(session, merchant_id, "points", within.first).points
    series = []
    for day in within.each_day():
        figures, _ = _figures(days.get(day, {}))
        running += sum(s.points for s in days.get(day, {}).values())
        series.append({"day": day.isoformat(), **figures, "outstanding": running})
    return series


def point_value(session: Session, merchant_id: int) -> Decimal | None:
    """What one point is worth: the money value of the active money rewards over their points.

    None when the catalogue has no active reward whose value is money.
    """
    rows = session.execute(
        select(Reward.value, Reward.points_cost).where(
            Reward.merchant_id == merchant_id,
            Reward.active.is_(True),
            Reward.kind.in_(MONEY_REWARDS),
            Reward.value.is_not(None),
            Reward.points_cost > 0,
        )
    ).all()
    points = sum(cost for _, cost in rows)
    if not points:
        return None
    return (sum((Decimal(v) for v, _ in rows), Decimal(0)) / points).quantize(Decimal("0.0001"))


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def expiring(session: Session, merchant_id: int, now: datetime) -> dict[str, int]:
    """Points left in live lots that expire within 30, 60 and 90 days of ``now``."""
    sums = [
        func.coalesce(
            func.sum(case((PointLot.expires_at <= now + timedelta(days=days),
                           PointLot.remaining), else_=0)),
            0,
        )
        for days in EXPIRY_HORIZONS
    ]  # fmt: skip
    found = session.execute(
        select(*sums).where(
            PointLot.merchant_id == merchant_id,
            PointLot.remaining > 0,
            PointLot.expires_at > now,
            PointLot.expires_at <= now + timedelta(days=max(EXPIRY_HORIZONS)),
        )
    ).one()
    return {str(days): int(n) for days, n in zip(EXPIRY_HORIZONS, found, strict=True)}
