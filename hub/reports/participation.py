"""The participation report: members, new members, active members, and members' share of orders.

New members are also counted by how they joined (``JOIN_SOURCES``: an online
store, a counter, an import, the widget, or by hand in the console or API).
Read from the daily rollups (``members`` and ``orders`` rows); the active
members (distinct members who ordered in the period, a count that does not
add up by day) are counted over what each member bought each day
(``hub.reports.member_days``).
Cancelled orders count nowhere.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from hub.members.directory import JOIN_SOURCES
from hub.reports import member_days
from hub.reports.periods import Period
from hub.reports.reading import Sums
from hub.reports.reading import before
from hub.reports.reading import by_day
from hub.reports.reading import pick
from hub.reports.reading import totals


def _placed(dimension: str, who: str) -> bool:
    return dimension.startswith(f"{who}:") and not dimension.endswith(":cancelled")


def _share(part: Decimal | int, whole: Decimal | int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")))


def active_members(session: Session, merchant_id: int, within: Period) -> int:
    """Members with at least one order (not cancelled) placed in the period."""
    return member_days.buyers(session, merchant_id, within.first, within.last)


def _summary(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    found = totals(session, merchant_id, within)
    members = pick(found, "orders", lambda d: _placed(d, "member"))
    guests = pick(found, "orders", lambda d: _placed(d, "guest"))
    total_members = before(session, merchant_id, "members", within.last + timedelta(days=1))
    active = active_members(session, merchant_id, within)
    return {
        "members": total_members.count,
        "new_members": pick(found, "members", lambda d: True).count,
        "new_members_by_source": {
            via: pick(found, "members", lambda d, via=via: d == via).count for via in JOIN_SOURCES
        },
        "active_members": active,
        "participation_rate": _share(active, total_members.count),
        "member_orders": members.count,
        "guest_orders": guests.count,
        "member_revenue": str(members.amount),
        "guest_revenue": str(guests.amount),
        "member_order_share": _share(members.count, members.count + guests.count),
        "member_revenue_share": _share(members.amount, members.amount + guests.amount),
    }


def participation_report(session: Session, merchant_id: int, within: Period) -> dict[str, Any]:
    """The participation report for ``within`` and the period before it."""
    orders = by_day(session, merchant_id, within, "orders")
    joined = by_day(session, merchant_id, within, "members")
    series = []
    for day in within.each_day():
        rows = orders.get(day, {})
        member, guest = Sums(), Sums()
        for dimension, sums in rows.items():
            if _placed(dimension, "member"):
                member.add(sums)
            elif _placed(dimension, "guest"):
                guest.add(sums)
        series.append({
            "day": day.isoformat(),
            "new_members": sum(s.count for s in joined.get(day, {}).values()),
            "member_orders": member.count,
            "guest_orders": guest.count,
            "member_revenue": str(member.amount),
            "guest_revenue": str(guest.amount),
        })  # fmt: skip
    return {
        "report": "participation",
        "period": within.to_dict(),
        "previous_period": within.previous().to_dict(),
        "totals": _summary(session, merchant_id, within),
        "previous_totals": _summary(session, merchant_id, within.previous()),
        "series": series,
    }
