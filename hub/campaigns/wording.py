"""What a campaign's message says: its wording per locale, filled for a member or samples."""

from __future__ import annotations

from typing import Any

from hub.messaging.kinds import MEMBER_SAMPLE
from hub.messaging.settings import Settings
from hub.messaging.sms_text import prepare_sms
from hub.messaging.templates import LOCALES
from hub.messaging.templates import render
from hub.messaging.variables import format_values
from hub.models import Campaign

VOUCHER_SAMPLE = {"voucher_code": "HM7Q2X9KRT4B", "voucher_expiry_date": "31/12/2026"}


def template_for(campaign: Campaign, locale: str, fallback: str) -> str:
    """The campaign's wording in ``locale``, else in the merchant's, else any it has."""
    templates = campaign.templates or {}
    return templates.get(locale) or templates.get(fallback) or next(iter(templates.values()), "")


def sample_text(campaign: Campaign, settings: Settings, locale: str) -> str:
    """The campaign's wording in ``locale`` filled with sample values."""
    values: dict[str, Any] = {**MEMBER_SAMPLE, "shop": settings.shop}
    if campaign.reward_id:
        values.update(VOUCHER_SAMPLE)
    formatted = format_values(values, locale, settings.timezone)
    return render(template_for(campaign, locale, settings.locale), formatted)


def sms_parts(campaign: Campaign, settings: Settings) -> dict[str, int]:
    """SMS parts of the wording per locale the campaign writes in."""
    parts = {}
    for locale in LOCALES:
        if locale in (campaign.templates or {}):
            sms = prepare_sms(sample_text(campaign, settings, locale), unicode=settings["unicode"])
            parts[locale] = sms.segments
    return parts
