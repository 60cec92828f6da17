"""Password reset links sent to a staff user through the shop's messaging connections.

A reset link is the domain's one-time link (``hub.merchants.staff``): it
works once, for two hours, and setting the password through it ends every
other session of the user. This module only carries it: by e-mail to the
user's sign-in address, through the connection the shop sends e-mail with,
or by SMS to a phone the owner gives, through the shop's SMS connection (the
connections chosen in the messaging settings). Like a test message, it goes
straight to the gateway and not through the member message log: the person
is staff, not a member, so consent, caps and quiet hours do not apply. The
audit log keeps who sent which user a link, on which channel (never the link).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from hub import audit
from hub.errors import Conflict
from hub.errors import HubError
from hub.errors import ValidationError
from hub.merchants.staff import get_staff
from hub.merchants.staff import issue_link
from hub.merchants.staff import token_hash
from hub.messaging.gateways import OutgoingMessage
from hub.messaging.settings import get_settings
from hub.messaging.sms_text import prepare_sms
from hub.models import Connection
from hub.models import StaffLink
from hub.phones import normalize_phone

if TYPE_CHECKING:
    from hub.core import Hub

#: The channels a reset link can be sent on.
RESET_CHANNELS = ("email", "sms")


@dataclass(frozen=True)
class ResetNotice:
    """What the person reads: the subject (e-mail only) and the text, with the link in it."""

    subject: str
    text: str


@dataclass(frozen=True)
class ResetSent:
    """Where the link went: the channel, the address and the gateway that took it."""

    channel: str
    to: str
    gateway: str


class NoResetConnection(ValidationError):
    """The shop has no connection chosen for the channel in its messaging settings."""

    code = "no_messaging_connection"


class ResetNotSent(HubError):
    """The gateway refused the message or could not be reached; the link was not delivered."""

    status = 502
    code = "reset_link_not_sent"


def send_reset_link(
    hub: Hub,
    merchant_id: int,
    user_id: int,
    *,
    channel: str,
    compose: Callable[[str, str], ResetNotice],
    phone: str = "",
    actor: str,
) -> ResetSent:
    """Make a reset link for the staff user and send it on ``channel``.

    ``compose(token, locale)`` writes the message in the user's language
    (their own, else the shop's) around the link's token. The link is issued
    and the send audited in one transaction before the gateway is called; a
    link whose message fails is simply never used and expires.
    :raise NotFound: no such user in this shop.
    :raise Conflict: the user is disabled.
    :raise NoResetConnection: the shop sends nothing on the channel.
    :raise ValidationError: an unknown channel, or ``phone`` is no phone number.
    :raise ResetNotSent: the gateway did not take the message.
    """
    if channel not in RESET_CHANNELS:
        raise ValidationError(
            f"a reset link goes by {' or '.join(RESET_CHANNELS)}, not {channel!r}",
            details={"channel": [f"one of {', '.join(RESET_CHANNELS)}"]},
        )
    with hub.db.transaction() as session:
        person = get_staff(session, merchant_id, user_id)
        if person.status != "active":
            raise Conflict(
                f"staff user {user_id} is disabled: a link would not let them in",
                code="staff_disabled",
            )
        to = person.email if channel == "email" else _phone(hub, phone)
        settings = get_settings(session, merchant_id)
        connection = _connection(session, merchant_id, settings["connections"].get(channel))
        if connection is None:
            raise NoResetConnection(
                f"the shop sends no {channel} yet: choose a connection for {channel} under "
                "Messages, or copy the reset link and pass it on yourself",
                details={"channel": [f"no {channel} connection"]},
            )
        token = issue_link(session, person, "reset")
        link_id = session.scalar(
            select(StaffLink.id).where(StaffLink.token_hash == token_hash(token))
        )
        notice = compose(token, person.locale or settings.locale)
        audit.record(
            session, merchant_id, actor=actor, action="staff.reset_link_sent",
            object_type="staff_user", object_id=person.id,
            data={"channel": channel, "gateway": connection.connector},
        )  # fmt: skip
        session.expunge(connection)
    _deliver(hub, connection, _message(-link_id, merchant_id, channel, to, notice))
    return ResetSent(channel, to, connection.connector)


def _phone(hub: Hub, phone: str) -> str:
    number = normalize_phone(phone, hub.config["HUB_DEFAULT_REGION"]) if phone.strip() else None
    if number is None:
        raise ValidationError(
            f"{phone!r} is not a phone number; give it as 0912345678 or +84912345678",
            details={"phone": ["not a phone number"]},
        )
    return number


def _connection(session, merchant_id: int, connection_id: int | None) -> Connection | None:
    connection = session.get(Connection, connection_id) if connection_id else None
    if connection is None or connection.merchant_id != merchant_id:
        return None
    return connection if connection.status == "active" else None


def _message(
    reference: int, merchant_id: int, channel: str, to: str, notice: ResetNotice
) -> OutgoingMessage:
    """The message as the gateway takes it.

    Gateways dedupe on the message's reference (eSMS answers a repeated
    RequestId as already sent), so each link gets its own: the link's id,
    negative, which no message of the log (positive ids) ever has.
    """
    if channel == "email":
        return OutgoingMessage(
            id=reference, merchant_id=merchant_id, channel="email", to=to, text=notice.text,
            kind="staff_reset", subject=notice.subject,
        )  # fmt: skip
    sms = prepare_sms(notice.text, unicode=False)
    return OutgoingMessage(
        id=reference, merchant_id=merchant_id, channel="sms", to=to, text=sms.text,
        kind="staff_reset", unicode=sms.unicode, segments=sms.segments,
    )  # fmt: skip


def _deliver(hub: Hub, connection: Connection, message: OutgoingMessage) -> None:
    connector = hub.connectors.get(connection.connector)
    if connector is None or connector.gateway is None:
        raise ResetNotSent(f"connection {connection.id} ({connection.connector}) sends nothing")
    try:
        connector.send_message(hub, connection, message)
    except Exception as exc:  # any gateway failure: the owner reads why and can copy the link
        raise ResetNotSent(
            f"the {connection.connector} gateway did not take the reset link: {exc}",
            details={"gateway": connection.connector},
        ) from None
