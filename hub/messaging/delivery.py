"""Send queued messages: claim, decide, call the gateway, record what it said.

``deliver_message`` is the job (queue ``messages``). It claims the message
with a guarded status change, so two jobs for one message never both send;
it decides under the merchant's settings lock (caps, budget); it calls the
gateway's ``send_message`` outside any transaction; and it records the
result. A transient failure (``RetryLater``) schedules the next attempt
with backoff, a permanent one (``PermanentError``) falls back to the next
channel in the merchant's order, or fails the message with the reason.

Held messages (quiet hours) and retries wait with a ``due_at``; with Redis
they are scheduled with rq's ``enqueue_at``, and the sweep (every minute)
picks up any whose job was lost, so Redis is never the only copy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import select

from hub.db import utcnow
from hub.errors import PermanentError
from hub.errors import RetryLater
from hub.jobs import DEFAULT_RETRY_INTERVALS
from hub.jobs import run
from hub.messaging.callbacks import callback_url
from hub.messaging.gateways import OutgoingMessage
from hub.messaging.gateways import RecipientOptedOut
from hub.messaging.gateways import SendResult
from hub.messaging.kinds import message_kinds
from hub.messaging.models import Message
from hub.messaging.optouts import opt_out
from hub.messaging.policy import Decision
from hub.messaging.policy import decide
from hub.messaging.settings import get_settings
from hub.metrics import count
from hub.models import Connection
from hub.registry import UnknownConnector

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger(__name__)

JOB = "hub.messaging.delivery.deliver_message"
#: Attempts on one channel before a transient failure counts as permanent.
MAX_ATTEMPTS = len(DEFAULT_RETRY_INTERVALS) + 1
#: A message claimed this long ago without a result lost its worker.
STALE_AFTER = timedelta(minutes=15)
#: How late a scheduled job may be before the sweep enqueues it again.
SWEEP_GRACE = timedelta(seconds=60)
#: Order of statuses a receipt or a result may move a message along.
RANK = {"queued": 0, "held": 0, "sending": 0, "sent": 1, "failed": 2, "delivered": 3}


@dataclass(frozen=True)
class Claim:
    """A message a worker has claimed, with everything the gateway needs."""

    message_id: int
    connection: Connection
    outgoing: OutgoingMessage


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent, transient, permanent, opted_out
    result: SendResult | None = None
    error: str | None = None


def _parse_now(now: str | datetime | None) -> datetime:
    if now is None:
        return utcnow()
    return now if isinstance(now, datetime) else datetime.fromisoformat(now)


def schedule(hub: Hub, message_id: int, due_at: datetime, *, now: datetime) -> None:
    """Have a worker deliver the message at ``due_at`` (at once when it is due already).

    Without Redis a due message is delivered now, in this process, and a
    later one waits for the sweep. A failed enqueue is only logged: the
    sweep finds the message by its ``due_at``.
    """
    job_id = f"msg-{message_id}-{int(due_at.timestamp())}"
    if hub.jobs.is_inline:
        if due_at <= now:
            hub.jobs.enqueue(JOB, message_id, now.isoformat())
        return
    from rq.exceptions import DuplicateJobError

    try:
        if due_at <= now + timedelta(seconds=1):
            hub.jobs.enqueue(JOB, message_id, job_id=job_id, queue="messages")
        else:
            hub.jobs.queue("messages").enqueue_at(
                due_at, run, JOB, message_id, job_id=hub.jobs.job_id(job_id), unique=True
            )
    except DuplicateJobError:
        pass
    except Exception as exc:
        log.warning("message %s not scheduled (%s); the sweep will", message_id, exc)


def deliver_message(message_id: int, now: str | None = None) -> str:
    """Job: send one message if it is (still) due; return its status afterwards."""
    from hub.core import current_hub

    hub = current_hub()
    moment = _parse_now(now)
    status = "missing"
    for _channel in range(3):
        claim, status = _claim(hub, message_id, moment)
        if claim is None:
            return status
        outcome = _send(hub, claim)
        status = _record(hub, claim, outcome, moment)
        if status != "fallback":
            return status
    return status


def _failed_channels(message: Message) -> set[str]:
    return {h["channel"] for h in message.history or [] if h.get("event") == "channel_failed"}


def _attempts_on(message: Message, channel: str) -> int:
    return sum(
        1 for h in message.history or [] if h.get("event") == "attempt" and h["channel"] == channel
    )


def _claim(hub: Hub, message_id: int, now: datetime) -> tuple[Claim | None, str]:
    """Decide under the locks what happens to the message now; claim it if it goes out."""
    with hub.db.transaction() as session:
        message = session.get(Message, message_id, with_for_update=True)
        if message is None:
            return None, "missing"
        if message.status not in ("queued", "held"):
            return None, message.status
        settings = get_settings(session, message.merchant_id, lock=True)
        kind = message_kinds(hub).get(message.kind)
        failed = _failed_channels(message)
        decision = decide(hub, session, message, settings, kind, now, failed_channels=failed)
        if decision.action == "skip":
            note(message, now, "skipped", reason=decision.reason)
            message.status, message.reason = "skipped", decision.reason
            return None, "skipped"
        if decision.action == "send":
            return _start_sending(hub, message, decision, now), "sending"
        if message.status != "held" or message.due_at != decision.due_at:
            note(message, now, "held", until=decision.due_at.isoformat())
        message.status, message.reason = "held", decision.reason
        message.due_at = due_at = decision.due_at
    schedule(hub, message_id, due_at, now=now)
    return None, "held"


def _start_sending(hub: Hub, message: Message, decision: Decision, now: datetime) -> Claim:
    sms = decision.channel == "sms"
    message.status = "sending"
    message.attempts += 1
    message.claimed_at = now
    message.channel = decision.channel
    message.connection_id = decision.connection.id
    message.gateway = decision.connection.connector
    message.recipient = decision.recipient
    message.encoding = decision.sms.encoding if sms else None
    message.segments = decision.sms.segments if sms else None
    message.estimated_cost = decision.estimated_cost
    message.tag = decision.tag
    message.reason = None
    note(message, now, "attempt", channel=decision.channel, gateway=message.gateway)
    outgoing = OutgoingMessage(
        id=message.id,
        merchant_id=message.merchant_id,
        channel=decision.channel,
        to=decision.recipient,
        text=decision.email.text if decision.email else decision.sms.text,
        kind=message.kind,
        locale=message.locale,
        unicode=decision.sms.unicode,
        segments=decision.sms.segments,
        template_id=decision.template_id,
        template_data=decision.template_data,
        receipts_url=callback_url(hub, decision.connection),
        attempt=_attempts_on(message, decision.channel),
        subject=decision.email.subject if decision.email else None,
        html=decision.email.html if decision.email else None,
        headers=decision.email.headers if decision.email else {},
    )
    return Claim(message.id, decision.connection, outgoing)


def _send(hub: Hub, claim: Claim) -> Outcome:
    try:
        connector = hub.connector(claim.connection.connector)
        result = connector.send_message(hub, claim.connection, claim.outgoing)
    except UnknownConnector as exc:
        return Outcome("permanent", error=exc.message)
    except RetryLater as exc:
        return Outcome("transient", error=str(exc) or repr(exc))
    except RecipientOptedOut as exc:
        return Outcome("opted_out", error=str(exc))
    except PermanentError as exc:
        return Outcome("permanent", error=str(exc) or repr(exc))
    except Exception as exc:
        # A bug or an unclassified error: the gateway may have sent it, so do not resend.
        log.exception("gateway %s raised sending message %s", claim.connection.connector, claim)
        return Outcome(
            "permanent", error=f"the {claim.connection.connector} plugin failed: {exc!r}"
        )
    return Outcome("sent", result=result)


def _record(hub: Hub, claim: Claim, outcome: Outcome, now: datetime) -> str:
    count("messages", gateway=claim.connection.connector, result=outcome.kind)
    retry_at = None
    with hub.db.transaction() as session:
        message = session.get(Message, claim.message_id, with_for_update=True)
        channel = claim.outgoing.channel
        if outcome.kind == "sent":
            _sent(message, outcome.result, now)
            return message.status
        if outcome.kind == "opted_out":
            opt_out(
                session,
                message.merchant_id,
                channel,
                claim.outgoing.to,
                source=f"gateway:{claim.connection.connector}",
            )
        attempts = _attempts_on(message, channel)
        if outcome.kind == "transient" and attempts < MAX_ATTEMPTS:
            retry_at = now + timedelta(seconds=DEFAULT_RETRY_INTERVALS[attempts - 1])
            note(message, now, "retry", channel=channel, error=outcome.error)
            message.status, message.reason, message.due_at = "held", outcome.error, retry_at
        else:
            error = outcome.error
            if outcome.kind == "transient":
                error = f"gave up after {attempts} attempts: {error}"
            note(message, now, "channel_failed", channel=channel, error=error)
            message.reason = error
            message.status = "queued" if _has_fallback(hub, session, message) else "failed"
            if message.status == "queued":
                return "fallback"
            return "failed"
    schedule(hub, claim.message_id, retry_at, now=now)
    return "held"


def _sent(message: Message, result: SendResult, now: datetime) -> None:
    if RANK.get(message.status, 0) < RANK.get(result.status, 1):
        message.status = result.status
    message.gateway_message_id = result.gateway_message_id or message.gateway_message_id
    message.sent_at = message.sent_at or now
    if result.status == "delivered":
        message.delivered_at = message.delivered_at or now
    if result.cost is not None:
        message.cost, message.cost_currency = result.cost, result.currency
    if result.segments:
        message.segments = result.segments
    note(message, now, "sent", gateway_message_id=result.gateway_message_id)


def _has_fallback(hub: Hub, session: Any, message: Message) -> bool:
    """Whether a channel the message may still take is left (its kind may name its own)."""
    settings = get_settings(session, message.merchant_id)
    channels = settings["channel_order"]
    kind = message_kinds(hub).get(message.kind)
    if kind is not None and kind.resolve is not None:
        channels = kind.resolve(session, message, settings.kind(kind)).channels or channels
    failed = _failed_channels(message)
    return any(
        channel not in failed and settings["connections"].get(channel) for channel in channels
    )


def note(message: Message, now: datetime, event: str, **data: Any) -> None:
    """Add a step to the message's history (attempt, hold, retry, fallback, receipt)."""
    entry = {"at": now.isoformat(), "event": event, **{k: v for k, v in data.items() if v}}
    message.history = [*(message.history or []), entry]


def release_due(hub: Hub, *, now: datetime | None = None, limit: int = 500) -> int:
    """Enqueue messages whose time has come and whose job was lost; fail stale sends.

    A message claimed more than ``STALE_AFTER`` ago without a result lost
    its worker mid-send: the gateway may have sent it, so it is marked
    failed rather than sent twice. Returns how many messages were enqueued.
    """
    now = now or utcnow()
    with hub.db.transaction() as session:
        stale = session.scalars(
            select(Message)
            .where(Message.status == "sending", Message.claimed_at < now - STALE_AFTER)
            .limit(limit)
        ).all()
        for message in stale:
            reason = "the worker stopped while sending; not sent again to avoid a duplicate"
            note(message, now, "abandoned")
            message.status, message.reason = "failed", reason
        due = session.execute(
            select(Message.id, Message.due_at)
            .where(Message.status.in_(("queued", "held")), Message.due_at <= now - SWEEP_GRACE)
            .order_by(Message.due_at)
            .limit(limit)
        ).all()
    for message_id, due_at in due:
        # The job id follows due_at: a job already waiting for this slot is not doubled.
        schedule(hub, message_id, due_at, now=now)
    return len(due)


def run_sweep(now: str | None = None) -> int:
    """Periodic job: see ``release_due``."""
    from hub.core import current_hub

    return release_due(current_hub(), now=_parse_now(now))
