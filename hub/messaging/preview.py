"""Preview a message: the merchant's template (or a draft) filled for a member or samples."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy.orm import Session

from hub.errors import ValidationError
from hub.members.directory import get_member
from hub.messaging.advertising import advertising_sms
from hub.messaging.kinds import message_kinds
from hub.messaging.settings import get_settings
from hub.messaging.sms_text import prepare_sms
from hub.messaging.templates import check_template
from hub.messaging.templates import render
from hub.messaging.variables import format_values
from hub.messaging.variables import member_locale
from hub.messaging.variables import member_values

if TYPE_CHECKING:
    from hub.core import Hub


def preview(
    hub: Hub,
    session: Session,
    merchant_id: int,
    *,
    kind: str,
    locale: str | None = None,
    template: str | None = None,
    member_id: int | None = None,
    unicode: bool | None = None,
) -> dict[str, Any]:
    """Render ``kind`` as it would go out, with the SMS parts it would cost.

    A marketing kind's SMS is shown as it is sent: with ``[QC]`` first and
    the merchant's opt-out line last, and the parts they cost.

    Without a member the kind's sample values stand in; the kind's own
    values (order total, voucher code) are always samples.
    """
    spec = message_kinds(hub).get(kind)
    if spec is None:
        known = ", ".join(sorted(message_kinds(hub))) or "none installed"
        raise ValidationError(
            f"unknown message kind {kind!r}; installed kinds: {known}",
            details={"kind": [f"one of {known}"]},
        )
    settings = get_settings(session, merchant_id)
    kind_settings = settings.kind(spec)
    values = spec.sample_values()
    values["shop"] = settings.shop
    if member_id is not None:
        member = get_member(session, merchant_id, member_id)
        values.update(member_values(session, member, settings))
        locale = locale or member_locale(member, settings)
    locale = locale or settings.locale
    if template is None:
        template = kind_settings.template(locale)
    else:
        check_template(template, spec.allowed_variables(), field="template")
    formatted = format_values(values, locale, settings.timezone)
    text = render(template, formatted)
    sms_body = text
    if spec.marketing:  # as it goes out: the [QC] mark first, the opt-out line last
        sms_body = advertising_sms(text, settings.sms_opt_out(locale))
    sms = prepare_sms(sms_body, unicode=settings["unicode"] if unicode is None else unicode)
    answer = {"kind": kind, "locale": locale, "template": template, "text": text}
    return {**answer, **_channels(formatted, sms, kind_settings)}


def _channels(formatted: dict[str, str], sms: Any, kind_settings: Any) -> dict[str, Any]:
    """The preview's values, its SMS as sent and its Zalo template's parameters."""
    return {
        "variables": formatted,
        "sms": {
            "text": sms.text,
            "encoding": sms.encoding,
            "characters": sms.characters,
            "segments": sms.segments,
        },
        "zalo_template": {
            "template_id": kind_settings.zalo_template_id,
            "params": {p: render(t, formatted) for p, t in kind_settings.zalo_params.items()},
        },
    }
