"""A report's numbers written for people: money, counts, shares and days in the user's language.

The reports answer in JSON with exact values (money and shares as decimal
text, days as ISO dates); the console writes each one by what it is, which
its key says: ``1.234.567 ₫``, ``12.345``, ``12,5%``, ``4,7`` orders a year, ``31 thg 1, 2026`` in
Vietnamese and ``₫1,234,567``, ``12,345``, ``12.5%``, ``Jan 31, 2026`` in
English. One filter, ``figure``, serves the totals, the tables beside the
charts and the breakdowns.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hub.console.i18n import day
from hub.console.i18n import money
from hub.console.i18n import month
from hub.console.i18n import number
from hub.console.i18n import percent

#: Amounts of money, in the merchant's currency.
MONEY = frozenset({
    "member_revenue", "guest_revenue", "liability", "rewards_cost", "historic_clv",
    "average_order_value", "predictive_clv", "cost", "attributed_revenue", "revenue",
    "messages_cost",
})  # fmt: skip
#: Money worth less than the currency's unit, shown with its decimals.
EXACT_MONEY = frozenset({"point_value"})
#: Shares from 0 to 1 (or beyond, for a return), shown as percentages.
SHARES = frozenset({
    "participation_rate", "member_order_share", "member_revenue_share", "redemption_rate",
    "usage_rate", "repeat_rate", "retention", "roi", "guest_revenue_share",
})  # fmt: skip
#: Averages of counts (orders per member), shown with one decimal.
AVERAGES = frozenset({"orders_per_year", "orders_per_buyer"})
#: Calendar days and months, as ISO text.
DAYS = frozenset({"day"})
MONTHS = frozenset({"month", "cohort"})
#: The names of a breakdown's parts that are words of ours (how members joined).
PARTS = {
    "store": _l("Online store"), "pos": _l("Counter (POS)"), "import": _l("Import"),
    "widget": _l("Widget"), "api": _l("By hand or API"),
}  # fmt: skip
#: Text that is not a number: names of rewards, tiers, channels, kinds and sources.
WORDS = frozenset({"reward", "tier", "channel", "kind", "source"})


def figure(value: Any, key: str = "") -> str:
    """``value`` of the report's figure ``key``, written for the user's language."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Mapping):
        return (
            "; ".join(f"{name or _('no tier')}: {figure(v, key)}" for name, v in value.items())
            or "—"
        )
    if isinstance(value, list | tuple):
        return " · ".join(figure(v, key) for v in value) or "—"
    if key in WORDS:
        return str(value)
    if key in DAYS:
        return day(date.fromisoformat(str(value)))
    if key in MONTHS:
        return month(date.fromisoformat(f"{value}-01"))
    if key in MONEY or key in EXACT_MONEY:
        return money(value, exact=key in EXACT_MONEY)
    if key in SHARES:
        return percent(value)
    if key in AVERAGES:
        return number(Decimal(value).quantize(Decimal("0.1"), ROUND_HALF_EVEN))
    return number(value)


def _part(name: str) -> str:
    """A breakdown's part by name: a tier, a reason, or how members joined."""
    if not name:
        return _("no tier")
    return str(PARTS[name]) if name in PARTS else name
