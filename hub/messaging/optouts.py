"""Opt-outs: a number that replied STOP (or was opted out by API) gets nothing more.

An opt-out is per channel and per address (the phone number for SMS and
Zalo, the e-mail address for e-mail), and it is honoured at once: every
send checks it right before it goes out, held messages included. A STOP, an
unsubscribe link, a hard bounce or a spam complaint also withdraws the
member's marketing consent on that channel, with what happened as its source.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.members.directory import find_member
from hub.members.directory import set_consent
from hub.messaging.models import MessageOptOut
from hub.messaging.sms_text import strip_diacritics
from hub.models import Member

#: Replies that opt a number out: the usual English words, and the Vietnamese
#: ones carriers and brandname senders use ("TC" = từ chối, "HUY" = hủy).
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "TC", "HUY", "TU CHOI", "DUNG"}
)
#: Replies that lift an opt-out again (consent for marketing stays withdrawn).
START_WORDS = frozenset({"START", "UNSTOP"})


def keyword(text: str) -> str:
    """The reply as a keyword: without diacritics, upper case, spaces squeezed."""
    return " ".join(strip_diacritics(text or "").upper().split())


def is_opted_out(session: Session, merchant_id: int, channel: str, address: str) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    MessageOptOut.merchant_id == merchant_id,
                    MessageOptOut.channel == channel,
                    MessageOptOut.address == address,
                )
            )
        )
    )


def member_address(member: Member, channel: str) -> str | None:
    """Where ``channel`` reaches the member: the e-mail for e-mail, else the phone."""
    return member.email if channel == "email" else member.phone


def opt_outs_of(session: Session, merchant_id: int, *addresses: str) -> list[MessageOptOut]:
    return list(
        session.scalars(
            select(MessageOptOut)
            .where(MessageOptOut.merchant_id == merchant_id, MessageOptOut.address.in_(addresses))
            .order_by(MessageOptOut.channel)
        )
    )


def opt_out(session: Session, merchant_id: int, channel: str, address: str, *, source: str) -> bool:
    """Record that ``address`` wants nothing more on ``channel``; False when it already did."""
    if is_opted_out(session, merchant_id, channel, address):
        return False
    try:
        with session.begin_nested():
            session.add(
                MessageOptOut(
                    merchant_id=merchant_id, channel=channel, address=address, source=source
                )
            )
    except IntegrityError:
        return False  # a concurrent STOP got there first
    return True


def opt_in(session: Session, merchant_id: int, channel: str, address: str) -> bool:
    """Lift an opt-out; False when there was none."""
    result = session.execute(
        delete(MessageOptOut).where(
            MessageOptOut.merchant_id == merchant_id,
            MessageOptOut.channel == channel,
            MessageOptOut.address == address,
        )
    )
    return bool(result.rowcount)


def withdraw(
    session: Session, merchant_id: int, channel: str, address: str, *, source: str
) -> bool:
    """Opt ``address`` out of ``channel`` and withdraw its member's consent there, at once.

    False when the address had opted out already.
    """
    done = opt_out(session, merchant_id, channel, address, source=source)
    if channel == "email":
        member = find_member(session, merchant_id, email=address)
    else:
        member = find_member(session, merchant_id, phone=address)
    if member is not None:
        set_consent(session, member, channel, False, source=source)
    return done


def handle_reply(session: Session, merchant_id: int, channel: str, sender: str, text: str) -> str:
    """Act on a reply from ``sender`` (E.164): ``opted_out``, ``opted_in`` or ``ignored``."""
    word = keyword(text)
    if word in STOP_WORDS:
        withdraw(session, merchant_id, channel, sender, source="reply_stop")
        return "opted_out"
    if word in START_WORDS:
        opt_in(session, merchant_id, channel, sender)
        return "opted_in"
    return "ignored"
