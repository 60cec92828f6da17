"""The ``campaign`` message kind: its messages take their settings from their campaign.

A campaign message names its campaign as its cause (``event_type`` =
``campaign``, ``event_id`` = the campaign's id). Right before each send the
pipeline asks ``resolve`` for the settings that apply: the campaign's one
channel and ZNS template; held while the campaign is paused; refused once it
is cancelled.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from hub.messaging.kinds import MessageKind
from hub.messaging.models import Message
from hub.messaging.settings import KindSettings
from hub.models import Campaign

KIND = "campaign"


def resolve(session: Session, message: Message, kind_settings: KindSettings) -> KindSettings:
    """The settings of the message's campaign, as the send policy reads them."""
    campaign = None
    if message.event_type == KIND and (message.event_id or "").isdigit():
        campaign = session.get(Campaign, int(message.event_id))
    if campaign is None or campaign.merchant_id != message.merchant_id:
        return replace(kind_settings, refusal="the campaign was deleted")
    if campaign.state == "cancelled":
        return replace(kind_settings, refusal="the campaign was cancelled")
    zalo = campaign.zalo_template or {}
    return KindSettings(
        kind=kind_settings.kind,
        enabled=True,
        templates=dict(campaign.templates or {}),
        zalo_template_id=zalo.get("template_id"),
        zalo_params=dict(zalo.get("params") or {}),
        options={"reward_id": campaign.reward_id},
        channels=(campaign.channel,),
        hold="the campaign is paused" if campaign.state == "paused" else None,
    )


CAMPAIGN = MessageKind(
    name=KIND,
    title="Campaign",
    category="marketing",
    description="A campaign's message: its wording, channel and voucher are the campaign's.",
    templates={},
    voucher=True,
    resolve=resolve,
    automatic=False,
)
