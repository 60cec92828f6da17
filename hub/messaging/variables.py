"""The values a template can use: the member's own, the merchant's, the cause's."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hub.messaging.settings import Settings
from hub.messaging.templates import LOCALES
from hub.messaging.templates import format_value
from hub.models import Member


def member_locale(member: Member, settings: Settings) -> str:
    """The member's language if their attributes name one we write in, else the merchant's."""
    wanted = (member.attributes or {}).get("locale")
    return wanted if wanted in LOCALES else settings.locale


def first_name(name: str) -> str:
    """The given name: the last word of a Vietnamese full name ("Nguyễn Thị Lan" -> "Lan")."""
    words = (name or "").split()
    return words[-1] if words else ""


def member_values(session: Session, member: Member, settings: Settings) -> dict[str, Any]:
    from hub.tiers import current_tier

    tier = current_tier(session, member)
    return {
        "name": member.name or "",
        "first_name": first_name(member.name),
        "points": member.points_balance,
        "tier": tier.name if tier else "",
        "code": member.code,
        "shop": settings.shop,
    }


def format_values(values: dict[str, Any], locale: str, timezone: str) -> dict[str, str]:
    """Format every value for ``locale``; moments are shown in the merchant's timezone."""
    zone = ZoneInfo(timezone)
    formatted = {}
    for key, value in values.items():
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(zone)
        formatted[key] = format_value(value, locale)
    return formatted
