"""Write a campaign: what it says, to whom, on which channel, when, and what it may spend.

``CampaignSchema`` loads what the merchant sends (the API and the console
both use it); ``create_campaign`` and ``update_campaign`` check it against
the merchant's segments, rewards and gateway connections, and resolve an
uploaded list of phones and member codes to members once, when it is saved.
Only a draft can be changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.db import utcnow
from hub.errors import Conflict
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.messaging.gateways import CHANNELS
from hub.messaging.gateways import gateways
from hub.messaging.kinds import MEMBER_VARIABLES
from hub.messaging.settings import get_settings
from hub.messaging.settings_schema import ZaloTemplateSchema
from hub.messaging.templates import LOCALES
from hub.messaging.templates import check_template
from hub.models import Campaign
from hub.models import Connection
from hub.models import Member
from hub.models import Reward
from hub.models import Segment
from hub.phones import phone_or_none

if TYPE_CHECKING:
    from hub.core import Hub

#: The most entries an uploaded list may hold.
MAX_LIST = 10_000
#: What a voucher adds to the placeholders a campaign's template may use.
VOUCHER_VARIABLES = ("voucher_code", "voucher_expiry_date")
SCHEDULES = ("now", "at", "recurring")


def _not_empty(templates: dict[str, str]) -> None:
    if not templates:
        raise SchemaError("write the message in at least one language (vi or en)")


def _not_negative(value: Any) -> None:
    if value < 0:
        raise SchemaError("must be at least 0")


class ScheduleSchema(Schema):
    """``now`` (when scheduled), ``at`` a moment, or ``recurring`` from ``at`` every N days."""

    type = fields.Str(load_default="now", validate=validate.OneOf(SCHEDULES))
    at = fields.AwareDateTime(allow_none=True)
    every_days = fields.Int(allow_none=True, validate=validate.Range(min=1, max=365))

    @validates_schema
    def _complete(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("type") in ("at", "recurring") and not data.get("at"):
            raise SchemaError("give the moment to send at", field_name="at")
        if data.get("type") == "recurring" and not data.get("every_days"):
            raise SchemaError("give how many days apart the runs are", field_name="every_days")


class CampaignSchema(Schema):
    """A campaign as the merchant writes it; unknown fields are refused."""

    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    segment_id = fields.Int(allow_none=True)
    recipients = fields.List(
        fields.Str(validate=validate.Length(min=1, max=64)),
        validate=validate.Length(max=MAX_LIST),
        metadata={"description": "Phones or member codes, instead of a segment."},
    )
    channel = fields.Str(required=True, validate=validate.OneOf(CHANNELS))
    templates = fields.Dict(
        keys=fields.Str(validate=validate.OneOf(LOCALES)),
        values=fields.Str(validate=validate.Length(min=1, max=1000)),
        required=True,
        validate=lambda templates: _not_empty(templates),
    )
    zalo_template = fields.Nested(ZaloTemplateSchema)
    reward_id = fields.Int(allow_none=True)
    schedule = fields.Nested(ScheduleSchema, load_default=lambda: {"type": "now"})
    budget = fields.Decimal(
        as_string=True,
        allow_none=True,
        allow_nan=False,
        validate=lambda value: _not_negative(value),
        metadata={"type": "string", "format": "decimal", "example": "500000"},
    )
    holdout_percent = fields.Int(load_default=0, validate=validate.Range(min=0, max=50))
    attribution_days = fields.Int(load_default=7, validate=validate.Range(min=1, max=90))


def load_campaign(data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Load a campaign body (the console's form, already as a dict) with the schema."""
    try:
        return CampaignSchema(partial=partial).load(data)
    except SchemaError as exc:
        raise ValidationError(
            "the campaign has invalid or unknown fields; see details", details=exc.messages
        ) from None


def list_campaigns(session: Session, merchant_id: int) -> list[Campaign]:
    """The merchant's campaigns, newest first."""
    return list(
        session.scalars(
            select(Campaign).where(Campaign.merchant_id == merchant_id).order_by(Campaign.id.desc())
        )
    )


def get_campaign(
    session: Session, merchant_id: int, campaign_id: int, *, lock: bool = False
) -> Campaign:
    """One of the merchant's campaigns; another merchant's is not found."""
    campaign = session.get(Campaign, campaign_id, with_for_update=lock)
    if campaign is None or campaign.merchant_id != merchant_id:
        raise NotFound(f"campaign {campaign_id} not found", code="campaign_not_found")
    return campaign


def create_campaign(
    hub: Hub, session: Session, merchant_id: int, data: dict[str, Any], *, actor: str
) -> Campaign:
    """Save a new draft after checking it (``data`` as ``load_campaign`` returns it)."""
    if data.get("segment_id") is None and not data.get("recipients"):
        raise ValidationError(
            "say who the campaign is for: a segment_id or a list of recipients",
            details={"segment_id": ["a segment or recipients is required"]},
        )
    now = utcnow()
    campaign = Campaign(
        merchant_id=merchant_id,
        state="draft",
        member_ids=[],
        unmatched=[],
        zalo_template={},
        run=0,
        generation=0,
        actor=actor,
        created_at=now,
        updated_at=now,
    )
    _apply(hub, session, campaign, data)
    session.add(campaign)
    session.flush()
    audit_campaign(session, campaign, "campaign.created", actor)
    return campaign


def update_campaign(
    hub: Hub, session: Session, campaign: Campaign, data: dict[str, Any], *, actor: str
) -> Campaign:
    """Change a draft's fields given; a campaign past its draft cannot be rewritten."""
    if campaign.state != "draft":
        raise Conflict(
            f"campaign {campaign.id} is {campaign.state}; only a draft can be changed",
            code="campaign_not_draft",
        )
    _apply(hub, session, campaign, data)
    campaign.updated_at = utcnow()
    session.flush()
    audit_campaign(session, campaign, "campaign.updated", actor)
    return campaign


def _apply(hub: Hub, session: Session, campaign: Campaign, data: dict[str, Any]) -> None:
    merchant_id = campaign.merchant_id
    if "name" in data:
        _check_name(session, merchant_id, data["name"], campaign.id)
        campaign.name = data["name"]
    if data.get("segment_id") is not None:
        _check_owned(session, Segment, merchant_id, data["segment_id"], "segment_id")
        campaign.audience, campaign.segment_id = "segment", data["segment_id"]
        campaign.member_ids, campaign.unmatched = [], []
    elif data.get("recipients"):
        ids, unmatched = resolve_recipients(session, merchant_id, data["recipients"])
        campaign.audience, campaign.segment_id = "list", None
        campaign.member_ids, campaign.unmatched = ids, unmatched
    if "reward_id" in data:
        if data["reward_id"] is not None:
            reward = _check_owned(session, Reward, merchant_id, data["reward_id"], "reward_id")
            if not reward.active:
                raise ValidationError(
                    f"reward {reward.id} is inactive; activate it or choose another",
                    details={"reward_id": ["inactive reward"]},
                )
        campaign.reward_id = data["reward_id"]
    for field in ("channel", "templates", "budget", "holdout_percent", "attribution_days"):
        if field in data:
            setattr(campaign, field, data[field])
    if "zalo_template" in data:
        campaign.zalo_template = dict(data["zalo_template"] or {})
    if "schedule" in data:
        _apply_schedule(campaign, data["schedule"])
    check_channel(hub, session, campaign)
    _check_wording(campaign)


def _apply_schedule(campaign: Campaign, schedule: dict[str, Any]) -> None:
    kind = schedule.get("type", "now")
    at: datetime | None = schedule.get("at")
    campaign.send_at = at if kind in ("at", "recurring") else None
    campaign.repeat_days = schedule.get("every_days") if kind == "recurring" else None


def schedule_of(campaign: Campaign) -> dict[str, Any]:
    """The campaign's schedule as the API shows it."""
    kind = "recurring" if campaign.repeat_days else "at" if campaign.send_at else "now"
    return {"type": kind, "at": campaign.send_at, "every_days": campaign.repeat_days}


def resolve_recipients(
    session: Session, merchant_id: int, entries: list[str]
) -> tuple[list[int], list[str]]:
    """Match each entry to an active member by phone (any usual form) or member code.

    Returns the member ids, each once, in the list's order, and the entries
    that matched no one.
    """
    phones = {entry: phone_or_none(entry) for entry in entries}
    codes = {entry.strip().upper() for entry in entries}
    wanted_phones = {phone for phone in phones.values() if phone}
    found = session.execute(
        select(Member.id, Member.phone, Member.code).where(
            Member.merchant_id == merchant_id,
            Member.status == "active",
            or_(Member.phone.in_(wanted_phones or {""}), Member.code.in_(codes)),
        )
    ).all()
    by_phone = {row.phone: row.id for row in found if row.phone}
    by_code = {row.code.upper(): row.id for row in found}
    ids: list[int] = []
    unmatched: list[str] = []
    for entry in entries:
        member_id = by_phone.get(phones[entry]) or by_code.get(entry.strip().upper())
        if member_id is None:
            unmatched.append(entry)
        elif member_id not in ids:
            ids.append(member_id)
    if not ids:
        raise ValidationError(
            "no entry of the list is the phone or code of one of your members",
            details={"recipients": [f"no member: {', '.join(unmatched[:5])}"]},
        )
    return ids, unmatched


def _check_owned(session: Session, model: type, merchant_id: int, row_id: int, field: str) -> Any:
    row = session.get(model, row_id)
    if row is None or row.merchant_id != merchant_id:
        table = model.__tablename__
        raise ValidationError(
            f"{field} {row_id} is not one of your {table}",
            details={field: [f"no such {table[:-1]}"]},
        )
    return row


def check_channel(hub: Hub, session: Session, campaign: Campaign) -> None:
    """The channel needs an active gateway connection in the messaging settings."""
    settings = get_settings(session, campaign.merchant_id)
    connection_id = settings["connections"].get(campaign.channel)
    connection = session.get(Connection, connection_id) if connection_id else None
    gateway = gateways(hub).get(connection.connector) if connection else None
    if connection is None or connection.status != "active" or gateway is None:
        raise ValidationError(
            f"no active gateway sends {campaign.channel} for you; connect one and name it in "
            "the messaging settings (connections)",
            details={"channel": [f"no {campaign.channel} gateway connected"]},
        )
    if campaign.channel == "zalo" and not (campaign.zalo_template or {}).get("template_id"):
        raise ValidationError(
            "a Zalo campaign needs its approved ZNS template: zalo_template.template_id",
            details={"zalo_template": ["template_id is required for zalo"]},
        )


def allowed_variables(campaign: Campaign) -> set[str]:
    extra = VOUCHER_VARIABLES if campaign.reward_id else ()
    return set(MEMBER_VARIABLES) | set(extra)


def _check_wording(campaign: Campaign) -> None:
    allowed = allowed_variables(campaign)
    for locale, template in (campaign.templates or {}).items():
        check_template(template, allowed, field=f"templates.{locale}")
    for param, template in ((campaign.zalo_template or {}).get("params") or {}).items():
        check_template(template, allowed, field=f"zalo_template.params.{param}")


def _check_name(session: Session, merchant_id: int, name: str, campaign_id: int | None) -> None:
    clash = session.scalar(
        select(Campaign.id).where(Campaign.merchant_id == merchant_id, Campaign.name == name)
    )
    if clash is not None and clash != campaign_id:
        raise Conflict(
            f"a campaign named {name!r} already exists (id {clash}); choose another name",
            code="campaign_name_taken",
        )


def audit_campaign(session: Session, campaign: Campaign, action: str, actor: str) -> None:
    audit.record(
        session,
        campaign.merchant_id,
        actor=actor,
        action=action,
        object_type="campaign",
        object_id=campaign.id,
        data={"name": campaign.name, "state": campaign.state},
    )
