"""Gateway callbacks: delivery receipts and replies, at one URL pair per connection.

``/messaging/<connector>/<connection id>/receipts`` and ``.../inbound`` take
GET or POST, as gateways use both. The token in the query string must be
the connection's (see ``callbacks``), then the connector's
``gateway_callback`` hook checks the gateway's own signature and reads the
request; a forged or unsigned request answers 401 and changes nothing.
Receipts move a message forward only (sent, then delivered or failed), so a
receipt delivered twice or late changes nothing more.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.core import current_hub
from hub.db import utcnow
from hub.errors import NotFound
from hub.errors import Unauthorized
from hub.errors import ValidationError
from hub.members.directory import add_identity
from hub.members.directory import find_member
from hub.members.directory import member_by_identity
from hub.messaging.callbacks import check_token
from hub.messaging.callbacks import public_base_url
from hub.messaging.delivery import RANK
from hub.messaging.delivery import note
from hub.messaging.gateways import AddressOptOut
from hub.messaging.gateways import DeliveryReceipt
from hub.messaging.gateways import GatewayCallback
from hub.messaging.gateways import InboundMessage
from hub.messaging.gateways import SharedContact
from hub.messaging.gateways import gateways
from hub.messaging.models import Message
from hub.messaging.optouts import handle_reply
from hub.messaging.optouts import withdraw
from hub.models import Connection
from hub.phones import normalize_phone

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger(__name__)

bp = Blueprint("messaging_callbacks", __name__)


@bp.route(
    "/messaging/<connector>/<int:connection_id>/<any(receipts, inbound):endpoint>",
    methods=["GET", "POST"],
)
def gateway_callback(connector: str, connection_id: int, endpoint: str):
    """Take a gateway's receipts or a reply; 401 for a bad token or signature."""
    hub = current_hub()
    if not check_token(hub, connection_id, request.args.get("token")):
        raise Unauthorized(
            "the callback token is missing or wrong; use the URL the hub gave the gateway"
        )
    with hub.db.session() as session:
        connection = session.get(Connection, connection_id)
    if connection is None or connection.connector != connector or connection.status == "deleted":
        raise NotFound(f"connection {connection_id} not found", code="connection_not_found")
    callback = _callback(hub, endpoint)
    gateway = hub.connector(connector)
    items = gateway.gateway_callback(hub, connection, callback)
    if items is None:
        raise NotFound(f"connector {connector!r} takes no callbacks", code="no_callbacks")
    with hub.db.transaction() as session:
        counts = apply_callback(hub, session, connection, items)
    # A GatewayConnector may answer in the gateway's own format (eSMS wants XML).
    answer_with = getattr(gateway, "callback_answer", None)
    answer = answer_with(hub, connection, callback, counts) if answer_with else None
    if answer is not None:
        body, mimetype = answer
        return Response(body, mimetype=mimetype)
    return jsonify(counts)


def _callback(hub: Hub, endpoint: str) -> GatewayCallback:
    body = request.get_data(cache=True)
    query = request.query_string.decode("latin-1")
    path = request.path + (f"?{query}" if query else "")
    base = public_base_url(hub)
    return GatewayCallback(
        endpoint=endpoint,
        method=request.method,
        url=f"{base}{path}" if base else request.url,
        received_url=request.url,
        headers=request.headers,
        args=request.args,
        form=request.form if request.mimetype == "application/x-www-form-urlencoded" else {},
        body=body,
    )


def apply_callback(
    hub: Hub, session: Session, connection: Connection, items: list[Any]
) -> dict[str, int]:
    """Apply receipts and replies from one callback; return how many did something."""
    counts = dict.fromkeys(
        ("receipts", "unmatched", "replies", "opt_outs", "opted_in", "linked"), 0
    )
    now = utcnow()
    gateway = gateways(hub).get(connection.connector)
    channel = "sms" if gateway is None or "sms" in gateway.channels else gateway.channels[0]
    for item in items:
        if isinstance(item, DeliveryReceipt):
            matched = apply_receipt(session, connection, item, now)
            counts["receipts" if matched else "unmatched"] += 1
        elif isinstance(item, InboundMessage):
            sender = _sender(hub, session, connection, item)
            if sender is None:
                counts["unmatched"] += 1
                continue
            on = item.channel or channel
            done = handle_reply(session, connection.merchant_id, on, sender, item.text)
            counts["replies"] += 1
            counts["opt_outs"] += done == "opted_out"
            counts["opted_in"] += done == "opted_in"
        elif isinstance(item, AddressOptOut):
            counts["opt_outs"] += _address_opt_out(session, connection, channel, item)
        elif isinstance(item, SharedContact):
            counts["linked"] += _link(hub, session, connection, item)
    return counts


def _sender(hub: Hub, session: Session, connection: Connection, item: InboundMessage) -> str | None:
    """The phone a reply came from: as sent, or the linked member's for a platform id."""
    if item.external_id is None:
        return _phone(hub, item.sender)
    member = member_by_identity(session, connection.id, item.external_id)
    return member.phone if member is not None and member.phone else None


def _link(hub: Hub, session: Session, connection: Connection, item: SharedContact) -> int:
    """Link the member with the shared phone to the platform's id; 1 when newly linked."""
    phone = _phone(hub, item.phone)
    member = find_member(session, connection.merchant_id, phone=phone) if phone else None
    if member is None or member_by_identity(session, connection.id, item.external_id):
        return 0
    add_identity(session, member, connection.id, item.external_id)
    return 1


def _address_opt_out(
    session: Session, connection: Connection, channel: str, item: AddressOptOut
) -> int:
    """Opt out an address the gateway reports (bounce, complaint); 1 when it was new."""
    address = item.address.strip()
    if channel == "email":
        address = address.lower()
    if not address:
        return 0
    source = f"{connection.connector}:{item.reason}"[:64]
    return int(withdraw(session, connection.merchant_id, channel, address, source=source))


def _phone(hub: Hub, raw: str) -> str | None:
    try:
        return normalize_phone(raw, hub.config["HUB_DEFAULT_REGION"])
    except ValidationError:
        log.info("a reply came from %r, which is not a phone number; ignored", raw)
        return None


def find_message(session: Session, connection: Connection, receipt: DeliveryReceipt):
    """The message a receipt is about: by the hub's reference, else the gateway's id."""
    if receipt.reference and str(receipt.reference).isdigit():
        message = session.get(Message, int(receipt.reference), with_for_update=True)
        if message is not None and message.connection_id == connection.id:
            return message
    if receipt.gateway_message_id:
        return session.scalars(
            select(Message)
            .where(
                Message.connection_id == connection.id,
                Message.gateway_message_id == str(receipt.gateway_message_id),
            )
            .with_for_update()
        ).first()
    return None


def apply_receipt(
    session: Session, connection: Connection, receipt: DeliveryReceipt, now: datetime
) -> bool:
    """Move the message along as the receipt says; False when no message matches."""
    message = find_message(session, connection, receipt)
    if message is None:
        return False
    note(message, now, "receipt", status=receipt.status, error=receipt.error)
    if receipt.gateway_message_id and not message.gateway_message_id:
        message.gateway_message_id = str(receipt.gateway_message_id)
    if receipt.cost is not None:
        message.cost, message.cost_currency = receipt.cost, receipt.currency
    if not _moves(message.status, receipt.status):
        return True
    message.status = receipt.status
    if receipt.status == "delivered":
        message.delivered_at = receipt.at or now
        message.reason = None
    elif receipt.status == "failed":
        message.reason = receipt.error or "the gateway reports it undelivered"
    message.sent_at = message.sent_at or receipt.at or now
    return True


def _moves(current: str, reported: str) -> bool:
    if current == "delivered" or reported not in RANK:
        return False
    if current == "failed":
        return reported == "delivered"  # the gateway knows better than a lost worker
    return RANK[reported] > RANK.get(current, 0)


def message_log(
    session: Session, merchant_id: int, *, status: str | None = None, limit: int = 50
) -> list[Message]:
    """The merchant's latest messages, newest first, with their delivery status."""
    query = select(Message).where(Message.merchant_id == merchant_id)
    if status:
        query = query.where(Message.status == status)
    return list(session.scalars(query.order_by(Message.id.desc()).limit(limit)))
