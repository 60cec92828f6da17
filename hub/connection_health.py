"""A connection as its merchant looks after it: inbound health, failed replays, a test message.

The Connections page of the console and ``/api/v1/connections/<id>/...`` call
these, so both show and do the same. What the inbound deliveries look like
comes from the plugins that receive them (``connection_health``,
``replay_failed_deliveries``); the hub keeps no second copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from hub import audit
from hub.errors import HubError
from hub.errors import ValidationError
from hub.merchants.connections import get_connection
from hub.messaging.gateways import OutgoingMessage
from hub.messaging.sms_text import prepare_sms
from hub.phones import normalize_phone
from hub.registry import DeliveryHealth

if TYPE_CHECKING:
    from hub.core import Hub

#: The text of a test message when the caller gives none.
TEST_TEXT = "Storefront Hub: tin nhan thu / test message"


def _later(a, b):
    return max(x for x in (a, b) if x is not None) if (a or b) else None


def _add(a: DeliveryHealth, b: DeliveryHealth) -> DeliveryHealth:
    b_newer = b.last_error_at is not None and (
        a.last_error_at is None or b.last_error_at > a.last_error_at
    )
    newer_error = b if b_newer else a
    return DeliveryHealth(
        last_received_at=_later(a.last_received_at, b.last_received_at),
        backlog=a.backlog + b.backlog,
        failed=a.failed + b.failed,
        last_error=newer_error.last_error or a.last_error or b.last_error,
        last_error_at=newer_error.last_error_at,
    )


def delivery_health(
    hub: Hub, session: Session, merchant_id: int, connection_ids: list[int]
) -> dict[int, DeliveryHealth]:
    """Return each connection's inbound health (empty for one no plugin reports on)."""
    health = {connection_id: DeliveryHealth() for connection_id in connection_ids}
    answers = hub.pm.hook.connection_health(
        hub=hub, session=session, merchant_id=merchant_id, connection_ids=list(connection_ids)
    )
    for answer in answers:
        for connection_id, reported in (answer or {}).items():
            if connection_id in health:
                health[connection_id] = _add(health[connection_id], reported)
    return health


def replay_failed(hub: Hub, merchant_id: int, connection_id: int, *, actor: str) -> int:
    """Queue the connection's failed inbound deliveries again; return how many were queued."""
    with hub.db.transaction() as session:
        get_connection(session, merchant_id, connection_id)
    queued = hub.pm.hook.replay_failed_deliveries(
        hub=hub, merchant_id=merchant_id, connection_id=connection_id
    )
    with hub.db.transaction() as session:
        audit.record(
            session,
            merchant_id,
            actor=actor,
            action="connection.deliveries_replayed",
            object_type="connection",
            object_id=connection_id,
            data={"queued": queued or 0},
        )
    return queued or 0


@dataclass(frozen=True)
class TestSent:
    """What the gateway answered a test message: its status and id, the SMS parts."""

    status: str
    gateway_message_id: str | None
    segments: int


def send_test_message(
    hub: Hub, merchant_id: int, connection_id: int, to: str, *, text: str = "", actor: str
) -> TestSent:
    """Send one message through a gateway connection now, to check its settings and secrets.

    The merchant waits for the gateway's answer (within the gateway's own
    timeouts): the point is to see it work or read why not. Nothing is
    written to the message log; the audit log keeps who sent it where.
    :raise ValidationError: ``to`` is not a phone number, or the connection sends no messages.
    """
    phone = normalize_phone(to, hub.config["HUB_DEFAULT_REGION"]) if to.strip() else None
    if phone is None:
        raise ValidationError(
            f"{to!r} is not a phone number; give it as 0912345678 or +84912345678",
            details={"to": ["not a phone number"]},
        )
    with hub.db.transaction() as session:
        connection = get_connection(session, merchant_id, connection_id)
        connector = hub.connectors.get(connection.connector)
        if connector is None or connector.gateway is None:
            raise ValidationError(
                f"connection {connection_id} ({connection.connector}) sends no messages",
                code="not_a_gateway",
            )
        channel = connector.gateway.channels[0]
        sms = prepare_sms(text or TEST_TEXT, unicode=connector.gateway.unicode)
        audit.record(
            session,
            merchant_id,
            actor=actor,
            action="connection.test_message",
            object_type="connection",
            object_id=connection_id,
            data={"to": phone},
        )
        session.expunge(connection)
    message = OutgoingMessage(
        id=0, merchant_id=merchant_id, channel=channel, to=phone, text=sms.text,
        kind="test", unicode=sms.encoding == "UCS-2", segments=sms.segments,
    )  # fmt: skip
    try:
        result = connector.send_message(hub, connection, message)
    except HubError:
        raise
    except Exception as exc:
        raise ValidationError(
            f"the {connection.connector} gateway refused the test message: {exc}",
            code="test_message_failed",
        ) from None
    return TestSent(result.status, result.gateway_message_id, sms.segments)
