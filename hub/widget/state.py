"""What the widget shows: the program for guests; points, tier and rewards for members."""

from __future__ import annotations

import functools
import io
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

import segno
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.calendar_days import day_text
from hub.db import utcnow
from hub.models import Connection
from hub.models import Member
from hub.models import Merchant
from hub.models import PointLot
from hub.points import ledger
from hub.points.actions import action_states
from hub.points.actions import list_rules
from hub.points.program import program_for
from hub.referrals.listing import referrer_results
from hub.referrals.terms import get_terms
from hub.rewards.catalog import list_rewards
from hub.rewards.vouchers import effective_status
from hub.rewards.vouchers import member_vouchers
from hub.tiers.ladder import list_tiers
from hub.tiers.membership import tier_status
from hub.widget.activity import activity_lines

if TYPE_CHECKING:
    from hub.core import Hub

EXPIRING_WITHIN = timedelta(days=30)
MAX_PANEL_SECONDS = 3600
#: Where a referral link leads without a ``referral_url`` setting: the store's home page.
DEFAULT_REFERRAL_URL = "/?ref={code}"
DEFAULT_THEME = {"colour": "#0b6e4f", "position": "right", "launcher_text": None}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(Decimal(value).normalize(), "f")


def theme_for(program_settings: dict[str, Any], connection: Connection) -> dict[str, Any]:
    """Merchant-wide theme from the program, then the storefront's own overrides."""
    theme = dict(DEFAULT_THEME)
    theme.update((program_settings or {}).get("widget") or {})
    theme.update((connection.settings or {}).get("widget") or {})
    return {k: theme.get(k) for k in DEFAULT_THEME}


def program_view(hub: Hub, session: Session, merchant: Merchant, connection: Connection):
    """The part every visitor sees: the pitch, how to earn, the rewards, how to join."""
    program = program_for(hub, session, merchant.id)
    ways = ways_to_earn(session, merchant.id, program)
    rewards = [
        {
            "id": r.id,
            "name": r.name,
            "description": r.description,
            "kind": r.kind,
            "value": _money(r.value),
            "points_cost": r.points_cost,
            "min_order": _money(r.min_order),
            "min_tier_id": r.min_tier_id,
        }
        for r in list_rewards(session, merchant.id, active=True, limit=50)
    ]
    links = hub.connector(connection.connector).storefront_links(connection)
    return {
        "shop": merchant.name,
        "currency": merchant.currency,
        "locale": merchant.locale,
        "theme": theme_for(dict(program.settings), connection),
        "program": {
            "enabled": program.enabled,
            "pending_days": program.pending_days,
            "expiry": program.expiry_policy,
        },
        "ways_to_earn": ways,
        "rewards": rewards,
        "tiers": [
            {
                "id": t.id,
                "name": t.name,
                "threshold": _money(t.threshold),
                "basis": t.basis,
                "window": t.window,
                "benefits": t.benefits,
            }
            for t in list_tiers(session, merchant.id)
        ],
        "join_url": links.get("join"),
        "sign_in_url": links.get("sign_in"),
    }


def ways_to_earn(session: Session, merchant_id: int, program) -> list[dict[str, Any]]:
    """Purchases, the earning rules switched on, the rules on actions, and referrals."""
    ways = [
        {"kind": "purchase", "amount": _money(program.earn_amount), "points": program.earn_points}
    ]
    for name, settings in sorted(program.rules.items()):
        if isinstance(settings, dict) and settings.get("enabled", True):
            ways.append({"kind": name, **_public_rule(settings)})
    ways += [
        {
            "kind": "action",
            "action": rule.kind,
            "title": rule.title,
            "points": rule.points,
            "first_time_only": rule.first_time_only,
        }
        for rule in list_rules(session, merchant_id)
        if rule.enabled
    ]
    referrals = get_terms(session, merchant_id)
    if referrals["enabled"]:
        ways.append({"kind": "referral", "points": referrals["referrer"].get("points")})
    return ways


def _public_rule(settings: dict[str, Any]) -> dict[str, Any]:
    """Only the numbers a visitor may see of a rule's settings."""
    keep = ("points", "multiplier", "bonus_points")
    return {k: v for k, v in settings.items() if k in keep and isinstance(v, int | float | str)}


def member_view(
    hub: Hub,
    session: Session,
    member: Member,
    connection: Connection,
    *,
    referral_code: str | None = None,
):
    """The member's own panel: points, tier, expiring points, vouchers, code, activity.

    ``referral_code`` is the member's when the shop's referrals are on: the
    panel then carries their referral link and how their referrals went.
    """
    now = utcnow()
    balance = ledger.balance(session, member.id)
    status = tier_status(session, member, now)
    merchant = session.get(Merchant, member.merchant_id)

    def on(moment: datetime | None) -> str | None:
        return day_text(moment, merchant.locale, merchant.timezone)

    referral = referral_link(connection, referral_code) if referral_code else None
    return {
        "name": member.name,
        "code": member.code,
        "qr_svg": member_qr_svg(member.code),
        "points": {
            "available": balance.available,
            "pending": balance.pending,
            "total": balance.total,
        },
        "expiring": _expiring(session, member, now, on),
        "tier": _tier_view(status, on),
        "vouchers": _vouchers(session, member, now, on),
        "referral_url": referral,
        "referrals": (
            {"code": referral_code, **referrer_results(session, member.id)}
            if referral_code
            else None
        ),
        "activity": activity_lines(session, member, merchant),
        "actions": action_states(session, member, now),
    }


def _expiring(session: Session, member: Member, now: datetime, on) -> list[dict[str, Any]]:
    """Points that expire within ``EXPIRING_WITHIN``, soonest first."""
    rows = session.execute(
        select(PointLot.expires_at, PointLot.remaining)
        .where(
            PointLot.member_id == member.id,
            PointLot.remaining > 0,
            PointLot.expires_at.is_not(None),
            PointLot.expires_at > now,
            PointLot.expires_at <= now + EXPIRING_WITHIN,
        )
        .order_by(PointLot.expires_at)
    ).all()
    return [
        {
            "points": r.remaining,
            "expires_at": r.expires_at.isoformat(),
            "expires_on": on(r.expires_at),
        }
        for r in rows
    ]


def _vouchers(session: Session, member: Member, now: datetime, on) -> list[dict[str, Any]]:
    """The member's vouchers that can still be used."""
    found = [
        {
            "code": v.code,
            "name": v.reward_name,
            "kind": v.kind,
            "value": _money(v.value),
            "status": effective_status(v, now),
            "expires_at": v.expires_at.isoformat() if v.expires_at else None,
            "expires_on": on(v.expires_at),
        }
        for v in member_vouchers(session, member.id, limit=50)
    ]
    return [v for v in found if v["status"] == "issued"]


def referral_link(connection: Connection, code: str) -> str:
    """The member's referral link on the store, absolute when the store's origin is known.

    A path (``/?ref={code}``) is put on the connection's first storefront
    origin; with none set, the script puts it on the page's own origin.
    """
    settings = connection.settings or {}
    template = settings.get("referral_url") or DEFAULT_REFERRAL_URL
    link = template.replace("{code}", code)
    origins = settings.get("storefront_origins") or []
    if link.startswith("/") and not link.startswith("//") and origins:
        link = origins[0].rstrip("/") + link
    return link


def _tier_view(status: dict[str, Any], on) -> dict[str, Any] | None:
    current, upcoming = status["tier"], status["next_tier"]
    if current is None and upcoming is None:
        return None
    return {
        "name": current.name if current else None,
        "benefits": current.benefits if current else "",
        "basis": (upcoming or current).basis,
        "next": {"name": upcoming.name, "threshold": _money(upcoming.threshold)}
        if upcoming
        else None,
        "progress": _money(status["progress"]),
        "delta_to_next": _money(status["delta_to_next"]),
        "threshold": _money(current.threshold) if current else None,
        "retain_by": status["retain_by"].isoformat() if status["retain_by"] else None,
        "retain_on": on(status["retain_by"]),
        "delta_to_retain": _money(status["delta_to_retain"]),
    }


def panel_lifetime(session: Session, member: Member, panel: dict[str, Any]) -> int:
    """Seconds until the panel would change with time alone (at least 5, at most an hour).

    Pending points turn available, points enter the "expiring soon" window or
    expire, vouchers expire: each at a known time. Everything else changes only
    with a write, which drops the panel at once.
    """
    now = utcnow()
    remaining = PointLot.remaining > 0
    pending, expiring = session.execute(
        select(
            func.min(case((PointLot.available_at > now, PointLot.available_at))),
            func.min(case((PointLot.expires_at > now, PointLot.expires_at))),
        ).where(PointLot.member_id == member.id, remaining)
    ).one()
    window = session.scalar(
        select(func.min(PointLot.expires_at)).where(
            PointLot.member_id == member.id, remaining, PointLot.expires_at > now + EXPIRING_WITHIN
        )
    )
    moments = [pending, expiring, window - EXPIRING_WITHIN if window else None]
    moments += [
        datetime.fromisoformat(v["expires_at"]) for v in panel["vouchers"] if v["expires_at"]
    ]
    soonest = min((m for m in moments if m is not None and m > now), default=None)
    if soonest is None:
        return MAX_PANEL_SECONDS
    return max(5, min(MAX_PANEL_SECONDS, int((soonest - now).total_seconds()) + 1))


@functools.lru_cache(maxsize=2048)
def member_qr_svg(code: str) -> str:
    """The member code as an SVG QR code, for the counter's scanner (a code never changes)."""
    # With its namespace, so the script's DOMParser builds an SVG element, not an
    # unknown XML one that the browser lays out 0 px tall.
    out = io.BytesIO()
    segno.make_qr(code, error="m").save(
        out, kind="svg", xmldecl=False, svgns=True, nl=False, omitsize=True, border=4, dark="#111"
    )
    return out.getvalue().decode()
