"""Automatic messages: settings, previews, the message log and opt-outs."""

from __future__ import annotations

from decimal import Decimal

from flask import g
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate
from sqlalchemy import select

from hub.api.pagination import decode_cursor
from hub.api.pagination import encode_cursor
from hub.api.schemas import AMOUNT
from hub.api.schemas import Int64
from hub.core import current_hub
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.members.directory import get_member
from hub.messaging.callbacks import callback_url
from hub.messaging.gateways import CHANNELS
from hub.messaging.gateways import gateways
from hub.messaging.kinds import automatic_kinds
from hub.messaging.models import Message
from hub.messaging.optouts import member_address
from hub.messaging.optouts import opt_in
from hub.messaging.optouts import opt_out
from hub.messaging.optouts import opt_outs_of
from hub.messaging.preview import preview
from hub.messaging.settings import get_settings
from hub.messaging.settings import save_settings
from hub.messaging.settings import settings_view
from hub.messaging.settings_schema import SettingsSchema
from hub.messaging.templates import LOCALES
from hub.models import Connection

blp = Blueprint("messaging", __name__, url_prefix="", description="Automatic messages")


class Amount(fields.Decimal):
    """A decimal string without trailing zeros (``"250"``), as money appears in the API."""

    def __init__(self, **kwargs) -> None:
        super().__init__(as_string=True, metadata=AMOUNT, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format(Decimal(value).normalize(), "f")


STATUSES = ("queued", "held", "sending", "sent", "delivered", "failed", "skipped")


class KindInfoSchema(Schema):
    name = fields.Str()
    title = fields.Str()
    category = fields.Str()
    description = fields.Str()
    variables = fields.List(fields.Str())
    voucher = fields.Bool()
    default_templates = fields.Dict(keys=fields.Str(), values=fields.Str())


class GatewayInfoSchema(Schema):
    connection_id = fields.Int()
    connector = fields.Str()
    name = fields.Str()
    channels = fields.List(fields.Str())
    receipts_url = fields.Str(allow_none=True)
    inbound_url = fields.Str(allow_none=True)


class SettingsViewSchema(SettingsSchema):
    """The effective settings, every kind listed, and what can be set."""

    available_kinds = fields.List(fields.Nested(KindInfoSchema), dump_only=True)
    gateways = fields.List(fields.Nested(GatewayInfoSchema), dump_only=True)


class PreviewInSchema(Schema):
    kind = fields.Str(required=True)
    locale = fields.Str(validate=validate.OneOf(LOCALES))
    template = fields.Str(validate=validate.Length(min=1, max=1000))
    member_id = fields.Int()
    unicode = fields.Bool()


class SmsPartsSchema(Schema):
    text = fields.Str()
    encoding = fields.Str()
    characters = fields.Int()
    segments = fields.Int()


class PreviewSchema(Schema):
    kind = fields.Str()
    locale = fields.Str()
    template = fields.Str()
    text = fields.Str()
    variables = fields.Dict(keys=fields.Str(), values=fields.Str())
    sms = fields.Nested(SmsPartsSchema)
    zalo_template = fields.Dict()


class MessageSchema(Schema):
    id = fields.Int()
    member_id = fields.Int()
    kind = fields.Str()
    status = fields.Str()
    reason = fields.Str(allow_none=True)
    event_id = fields.Str(allow_none=True)
    event_type = fields.Str(allow_none=True)
    dedupe_key = fields.Str()
    locale = fields.Str()
    body = fields.Str()
    channel = fields.Str(allow_none=True)
    gateway = fields.Str(allow_none=True)
    connection_id = fields.Int(allow_none=True)
    recipient = fields.Str(allow_none=True)
    encoding = fields.Str(allow_none=True)
    segments = fields.Int(allow_none=True)
    gateway_message_id = fields.Str(allow_none=True)
    estimated_cost = Amount(allow_none=True)
    cost = Amount(allow_none=True)
    cost_currency = fields.Str(allow_none=True)
    voucher_id = fields.Int(allow_none=True)
    attempts = fields.Int()
    history = fields.List(fields.Dict())
    due_at = fields.AwareDateTime(allow_none=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class MessagePageSchema(Schema):
    data = fields.List(fields.Nested(MessageSchema))
    next_cursor = fields.Str(allow_none=True)


class MessageListArgs(Schema):
    member_id = Int64()
    kind = fields.Str(validate=validate.Length(max=64))
    status = fields.Str(validate=validate.OneOf(STATUSES))
    channel = fields.Str(validate=validate.OneOf(CHANNELS))
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.Str(load_default=None)


class MemberMessageArgs(Schema):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.Str(load_default=None)


class OptOutInSchema(Schema):
    channel = fields.Str(required=True, validate=validate.OneOf((*CHANNELS, "all")))


class OptOutSchema(Schema):
    channel = fields.Str()
    address = fields.Str()
    source = fields.Str()
    created_at = fields.AwareDateTime()


class OptOutListSchema(Schema):
    data = fields.List(fields.Nested(OptOutSchema))


def _settings_response(hub, session, settings) -> dict:
    view = settings_view(hub, settings)
    view["available_kinds"] = [
        {
            "name": kind.name,
            "title": kind.title,
            "category": kind.category,
            "description": kind.description,
            "variables": sorted(kind.allowed_variables()),
            "voucher": kind.voucher,
            "default_templates": kind.templates,
        }
        for kind in sorted(automatic_kinds(hub).values(), key=lambda k: k.name)
    ]
    known = gateways(hub)
    rows = session.scalars(
        select(Connection)
        .where(
            Connection.merchant_id == settings.merchant_id,
            Connection.connector.in_(list(known) or [""]),
            Connection.status != "deleted",
        )
        .order_by(Connection.id)
    )
    view["gateways"] = [
        {
            "connection_id": c.id,
            "connector": c.connector,
            "name": c.name,
            "channels": list(known[c.connector].channels),
            "receipts_url": callback_url(hub, c, "receipts")
            if known[c.connector].receipts
            else None,
            "inbound_url": callback_url(hub, c, "inbound") if known[c.connector].inbound else None,
        }
        for c in rows
    ]
    return view


@blp.route("/messaging/settings")
class MessagingSettingsView(MethodView):
    @blp.response(200, SettingsViewSchema)
    def get(self):
        """Get the merchant's messaging settings, every kind and connected gateway listed."""
        hub = current_hub()
        with hub.db.session() as session:
            return _settings_response(hub, session, get_settings(session, g.merchant_id))

    @blp.arguments(SettingsSchema)
    @blp.response(200, SettingsViewSchema)
    def put(self, _data):
        """Replace the messaging settings; what is left out takes its default (every kind off)."""
        hub = current_hub()
        with hub.db.transaction() as session:
            settings = save_settings(hub, session, g.merchant_id, request.get_json(), actor=g.actor)
            return _settings_response(hub, session, settings)


@blp.route("/messaging/preview")
class MessagingPreview(MethodView):
    @blp.arguments(PreviewInSchema)
    @blp.response(200, PreviewSchema)
    def post(self, data):
        """Render a kind's message (saved template or a draft) for a member or sample values."""
        hub = current_hub()
        with hub.db.session() as session:
            return preview(hub, session, g.merchant_id, **data)


def _page(query, args) -> dict:
    limit = args["limit"]
    before = decode_cursor(args.get("cursor"))
    if before:
        query = query.where(Message.id < before)
    with current_hub().db.session() as session:
        rows = list(session.scalars(query.order_by(Message.id.desc()).limit(limit)))
    return {
        "data": rows,
        "next_cursor": encode_cursor(rows[-1].id) if len(rows) == limit else None,
    }


@blp.route("/messages")
class Messages(MethodView):
    @blp.arguments(MessageListArgs, location="query")
    @blp.response(200, MessagePageSchema)
    def get(self, args):
        """List the merchant's messages, newest first, by member, kind, status or channel."""
        query = select(Message).where(Message.merchant_id == g.merchant_id)
        for field in ("member_id", "kind", "status", "channel"):
            if field in args:
                query = query.where(getattr(Message, field) == args[field])
        return _page(query, args)


@blp.route("/messages/<int:message_id>")
class MessageById(MethodView):
    @blp.response(200, MessageSchema)
    def get(self, message_id):
        """Get one message with its history: attempts, holds, fallbacks and receipts."""
        with current_hub().db.session() as session:
            message = session.get(Message, message_id)
            if message is None or message.merchant_id != g.merchant_id:
                raise NotFound(f"message {message_id} not found", code="message_not_found")
            return message


@blp.route("/members/<int:member_id>/messages")
class MemberMessages(MethodView):
    @blp.arguments(MemberMessageArgs, location="query")
    @blp.response(200, MessagePageSchema)
    def get(self, args, member_id):
        """List the messages sent (or held, or skipped) to one member, newest first."""
        with current_hub().db.session() as session:
            get_member(session, g.merchant_id, member_id)
        query = select(Message).where(
            Message.merchant_id == g.merchant_id, Message.member_id == member_id
        )
        return _page(query, args)


def _member_addresses(session, member_id: int) -> dict[str, str]:
    """The member's address on each channel it has one for: the phone, the e-mail."""
    member = get_member(session, g.merchant_id, member_id)
    addresses = {c: a for c in CHANNELS if (a := member_address(member, c))}
    if not addresses:
        raise ValidationError(
            f"member {member_id} has no phone number or e-mail to opt out; "
            "opt-outs are per number and per e-mail address",
            details={"member_id": ["no phone number or e-mail"]},
        )
    return addresses


@blp.route("/members/<int:member_id>/opt-outs")
class MemberOptOuts(MethodView):
    @blp.response(200, OptOutListSchema)
    def get(self, member_id):
        """List the channels the member's number (or e-mail) opted out of."""
        with current_hub().db.session() as session:
            addresses = _member_addresses(session, member_id)
            return {"data": opt_outs_of(session, g.merchant_id, *set(addresses.values()))}

    @blp.arguments(OptOutInSchema)
    @blp.response(201, OptOutListSchema)
    def post(self, data, member_id):
        """Opt the member's number (or e-mail) out of a channel (or ``all``), at once."""
        with current_hub().db.transaction() as session:
            addresses = _member_addresses(session, member_id)
            channels = CHANNELS if data["channel"] == "all" else (data["channel"],)
            if not any(channel in addresses for channel in channels):
                raise ValidationError(
                    f"member {member_id} has no address on {data['channel']}",
                    details={"channel": ["the member has no address on this channel"]},
                )
            for channel in channels:
                if channel in addresses:
                    opt_out(session, g.merchant_id, channel, addresses[channel], source=g.actor)
            session.flush()
            return {"data": opt_outs_of(session, g.merchant_id, *set(addresses.values()))}


@blp.route("/members/<int:member_id>/opt-outs/<channel>")
class MemberOptOut(MethodView):
    @blp.response(204)
    def delete(self, member_id, channel):
        """Lift the number's (or e-mail's) opt-out on a channel (marketing still needs consent)."""
        if channel not in CHANNELS:
            raise NotFound(f"channel {channel!r} not found", code="channel_not_found")
        with current_hub().db.transaction() as session:
            address = _member_addresses(session, member_id).get(channel, "")
            if not opt_in(session, g.merchant_id, channel, address):
                raise NotFound(
                    f"member {member_id} is not opted out of {channel}", code="opt_out_not_found"
                )
