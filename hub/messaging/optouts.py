"""Opt-outs: a number that replied STOP (or was opted out by API) gets nothing more.

An opt-out is per channel and per phone number, and it is honoured at once:
every send checks it right before it goes out, held messages included. A
STOP also withdraws the member's marketing consent on that channel, with
the reply as its source.
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


def opt_outs_of(session: Session, merchant_id: int, address: str) -> list[MessageOptOut]:
    return list(
        session.scalars(
            select(MessageOptOut)
            .where(MessageOptOut.merchant_id == merchant_id, MessageOptOut.address == address)
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


def handle_reply(session: Session, merchant_id: int, channel: str, sender: str, text: str) -> str:
    """Act on a reply from ``sender`` (E.164): ``opted_out``, ``opted_in`` or ``ignored``."""
    word = keyword(text)
    if word in STOP_WORDS:
        opt_out(session, merchant_id, channel, sender, source="reply_stop")
        member = find_member(session, merchant_id, phone=sender)
        if member is not None:
            set_consent(session, member, channel, False, source="reply_stop")
        return "opted_out"
    if word in START_WORDS:
        opt_in(session, merchant_id, channel, sender)
        return "opted_in"
    return "ignored"
