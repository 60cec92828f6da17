"""A test send: the campaign's message, with sample values, to the merchant's own phone.

It goes straight to the campaign's gateway connection, not through the
message log: the phone is the merchant's, not a member's, so consent, caps
and results do not apply, and it is not counted anywhere but the audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from hub import audit
from hub.campaigns.drafts import check_channel
from hub.campaigns.drafts import get_campaign
from hub.campaigns.estimate import connection_of
from hub.campaigns.wording import VOUCHER_SAMPLE
from hub.campaigns.wording import sample_text
from hub.errors import Conflict
from hub.errors import PermanentError
from hub.errors import RetryLater
from hub.errors import ValidationError
from hub.messaging.gateways import OutgoingMessage
from hub.messaging.gateways import gateways
from hub.messaging.kinds import MEMBER_SAMPLE
from hub.messaging.settings import get_settings
from hub.messaging.sms_text import prepare_sms
from hub.messaging.templates import render
from hub.messaging.variables import format_values
from hub.phones import phone_or_none

if TYPE_CHECKING:
    from hub.core import Hub


class TestSendFailed(Conflict):
    """The gateway refused or could not take the test message."""

    status = 502
    code = "test_send_failed"


def send_test(
    hub: Hub,
    merchant_id: int,
    campaign_id: int,
    *,
    phone: str,
    locale: str | None = None,
    actor: str,
) -> dict[str, Any]:
    """Send the campaign's message to ``phone``; return what went and the gateway's answer."""
    to = phone_or_none(phone)
    if to is None:
        raise ValidationError(
            f"{phone!r} is not a phone number; write it as 0912345678 or +84912345678",
            details={"phone": ["not a phone number"]},
        )
    with hub.db.transaction() as session:
        campaign = get_campaign(session, merchant_id, campaign_id)
        check_channel(hub, session, campaign)
        settings = get_settings(session, merchant_id)
        connection = connection_of(session, campaign, settings)
        outgoing = _outgoing(hub, campaign, settings, connection, to, locale or settings.locale)
        audit.record(
            session,
            merchant_id,
            actor=actor,
            action="campaign.test_sent",
            object_type="campaign",
            object_id=campaign.id,
            data={"channel": campaign.channel, "gateway": connection.connector},
        )
        session.expunge(connection)
    try:
        result = hub.connector(connection.connector).send_message(hub, connection, outgoing)
    except (RetryLater, PermanentError) as exc:
        raise TestSendFailed(
            f"the {connection.connector} gateway did not take the test message: {exc}",
            details={"gateway": connection.connector},
        ) from None
    return {
        "to": to,
        "channel": campaign.channel,
        "gateway": connection.connector,
        "text": outgoing.text,
        "segments": outgoing.segments,
        "gateway_message_id": result.gateway_message_id,
        "status": result.status,
    }


def _outgoing(
    hub: Hub, campaign: Any, settings: Any, connection: Any, to: str, locale: str
) -> OutgoingMessage:
    """The test message as the gateway takes it: the wording with sample values."""
    gateway = gateways(hub)[connection.connector]
    sms = prepare_sms(
        sample_text(campaign, settings, locale), unicode=settings["unicode"] and gateway.unicode
    )
    values = {**MEMBER_SAMPLE, "shop": settings.shop, **VOUCHER_SAMPLE}
    formatted = format_values(values, locale, settings.timezone)
    zalo = campaign.zalo_template or {}
    return OutgoingMessage(
        id=0,
        merchant_id=campaign.merchant_id,
        channel=campaign.channel,
        to=to,
        text=sms.text,
        kind="campaign_test",
        locale=locale,
        unicode=sms.unicode,
        segments=sms.segments,
        template_id=zalo.get("template_id") if campaign.channel == "zalo" else None,
        template_data={p: render(t, formatted) for p, t in (zalo.get("params") or {}).items()},
    )
