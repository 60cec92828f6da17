"""Outbound webhooks: each domain event to the merchant's matching endpoints.

One delivery row per (event, endpoint), one job per delivery. A delivery's
``message_id`` is its ``webhook-id`` on every attempt, so a receiver dedupes
retries. Attempts follow Svix's schedule (immediately, 5 s, 5 min, 30 min,
2 h, 5 h, 10 h, 10 h) through rq's Retry and scheduler; any 2xx within 15 s
is a success; 410 Gone disables the endpoint at once, and an endpoint whose
attempts have all failed for 5 days is disabled and the merchant told.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from hub import Conflict
from hub import Event
from hub import Hub
from hub import NotFound
from hub import RetryLater
from hub import count_metric
from hub import current_hub
from hub import outside_http
from hub import utcnow
from webhooks import sender
from webhooks.endpoints import allow_loopback
from webhooks.endpoints import disable_endpoint
from webhooks.endpoints import get_endpoint
from webhooks.endpoints import signing_secrets
from webhooks.models import WebhookAttempt
from webhooks.models import WebhookDelivery
from webhooks.models import WebhookEndpoint
from webhooks.signing import sign_headers

log = logging.getLogger(__name__)

#: Seconds to wait before each attempt (Svix's schedule): 8 attempts over about 27.6 h.
SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
#: An endpoint whose attempts have all failed for this long is disabled.
DISABLE_AFTER = timedelta(days=5)


def message_id(event_id: str, endpoint_id: int) -> str:
    """Return the ``webhook-id`` of an event's delivery to an endpoint (stable)."""
    digest = hashlib.sha256(f"{event_id}:{endpoint_id}".encode()).hexdigest()
    return f"msg_{digest[:27]}"


def wants(event_types: list[str] | None, event_type: str) -> bool:
    """Say whether an endpoint subscribed to ``event_types`` gets events of ``event_type``."""
    types = event_types or []
    return "*" in types or event_type in types


def _active_endpoints(session: Any, merchant_ids: set[int]) -> list[Any]:
    """(id, merchant id, event types) of the merchants' active endpoints."""
    return session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.merchant_id, WebhookEndpoint.event_types).where(
            WebhookEndpoint.merchant_id.in_(merchant_ids), WebhookEndpoint.status == "active"
        )
    ).all()


def events_with_endpoints(hub: Hub, events: list[Event]) -> list[str]:
    """The ids of the events some active endpoint of their merchant asked for: one query.

    Dispatch asks this before enqueueing the outbound job of each event, so a
    merchant without endpoints (most of them) costs no job per event.
    """
    with hub.db.session() as session:
        rows = _active_endpoints(session, {event.merchant_id for event in events})
    subscribed: dict[int, list[list[str] | None]] = {}
    for _, merchant_id, types in rows:
        subscribed.setdefault(merchant_id, []).append(types)
    return [
        event.id
        for event in events
        if any(wants(types, event.type) for types in subscribed.get(event.merchant_id, ()))
    ]


def payload_of(event: Event) -> dict[str, Any]:
    """Return the Standard Webhooks payload of an event: type, timestamp, data."""
    return {
        "type": event.type,
        "timestamp": event.occurred_at.isoformat(),
        "event_id": event.id,
        "data": event.data,
    }


def fan_out(hub: Hub, event: Event) -> list[int]:
    """Create one delivery per matching active endpoint and enqueue its job.

    Idempotent: run again for the same event, it creates nothing new and the
    enqueue of an existing job is a no-op. Return the delivery ids.
    """
    dialect = sqlite if hub.db.is_sqlite else postgresql
    # Most events match no endpoint: find that out without taking a write lock.
    with hub.db.session() as session:
        rows = _active_endpoints(session, {event.merchant_id})
    target_ids = [endpoint_id for endpoint_id, _, types in rows if wants(types, event.type)]
    if not target_ids:
        return []
    with hub.db.transaction() as session:
        targets = session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.id.in_(target_ids), WebhookEndpoint.status == "active"
            )
        ).all()
        now = utcnow()
        payload = payload_of(event)
        for endpoint in targets:
            session.execute(
                dialect.insert(WebhookDelivery)
                .values(
                    message_id=message_id(event.id, endpoint.id),
                    merchant_id=event.merchant_id,
                    endpoint_id=endpoint.id,
                    event_id=event.id,
                    event_type=event.type,
                    payload=payload,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=["event_id", "endpoint_id"])
            )
        rows = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.attempts).where(
                WebhookDelivery.event_id == event.id,
                WebhookDelivery.endpoint_id.in_([e.id for e in targets]),
                WebhookDelivery.status == "pending",
            )
        ).all()
    for delivery_id, attempts in rows:
        enqueue_delivery(hub, delivery_id, attempts_done=attempts)
    return [row[0] for row in rows]


def delivery_job_id(delivery_id: int) -> str:
    return f"webhook-out-{delivery_id}"


def retry_for(hub: Hub, attempts_done: int) -> Any:
    """Return the rq Retry that continues Svix's schedule after ``attempts_done`` attempts."""
    if hub.jobs.is_inline:
        return None
    from rq import Retry

    intervals = list(SCHEDULE[attempts_done + 1 :])
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def enqueue_delivery(hub: Hub, delivery_id: int, *, attempts_done: int = 0) -> None:
    """Enqueue the job that attempts one delivery (a no-op while its job exists)."""
    hub.jobs.enqueue(
        "webhooks.outbound.deliver",
        delivery_id,
        job_id=delivery_job_id(delivery_id),
        queue="outbound",
        retry=retry_for(hub, attempts_done),
        meta={"plugin": "webhooks", "delivery_id": delivery_id, "direction": "outbound"},
    )


def deliver(delivery_id: int, trigger: str = "auto") -> str:
    """Job: make one attempt of one delivery; return the delivery's status afterwards.

    Raise ``RetryLater`` after a failed scheduled attempt with attempts left,
    so rq tries again on Svix's schedule. ``trigger="replay"`` is one attempt
    by hand, whatever the delivery's status; it never schedules retries.
    """
    hub = current_hub()
    with hub.db.session() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
        if delivery is None or endpoint is None:
            return "gone"
        if trigger == "auto" and delivery.status != "pending":
            return delivery.status  # done by an earlier run
        if endpoint.status != "active":
            return _finish_without_attempt(hub, delivery_id, "the endpoint is disabled")
        secrets_in_use = signing_secrets(hub, endpoint)
        url, message, payload = endpoint.url, delivery.message_id, delivery.payload
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = sign_headers(secrets_in_use, message, int(utcnow().timestamp()), body)
    settings = hub.plugin_config("webhooks")
    client = outside_http(
        hub, allow_loopback=allow_loopback(hub), ca_bundle=settings.get("ca_bundle")
    )
    outcome = sender.post(
        client,
        url,
        body,
        headers,
        timeout=float(settings.get("timeout_seconds", sender.TIMEOUT_SECONDS)),
    )
    status = _record(hub, delivery_id, outcome, trigger)
    count_metric("outbound_deliveries", result=status)
    if status == "pending" and trigger == "auto":
        raise RetryLater(
            f"webhook delivery {delivery_id} to endpoint {endpoint.id} failed: "
            f"{outcome.error or outcome.status_code}"
        )
    return status


def _record(hub: Hub, delivery_id: int, outcome: sender.Outcome, trigger: str) -> str:
    """Log the attempt and move the delivery and its endpoint on; return the delivery status."""
    with hub.db.transaction() as session:
        delivery = session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None:
            return "gone"
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id, with_for_update=True)
        now = utcnow()
        delivery.attempts += 1
        session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                number=delivery.attempts,
                trigger=trigger,
                succeeded=outcome.succeeded,
                status_code=outcome.status_code,
                duration_ms=outcome.duration_ms,
                response_snippet=outcome.snippet,
                error=outcome.error,
                attempted_at=now,
            )
        )
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        if outcome.succeeded:
            delivery.status = "succeeded"
            delivery.next_attempt_at = None
            endpoint.failing_since = None
            return delivery.status
        endpoint.failing_since = endpoint.failing_since or now
        if outcome.status_code == 410:
            disable_endpoint(session, endpoint, "the endpoint answered 410 Gone")
            delivery.status = "failed"
        elif now - endpoint.failing_since >= DISABLE_AFTER:
            disable_endpoint(session, endpoint, "every attempt failed for 5 days")
            delivery.status = "failed"
        elif trigger == "auto":
            done = _scheduled_attempts(session, delivery.id)
            if done >= len(SCHEDULE):
                delivery.status = "failed"
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = now + timedelta(seconds=SCHEDULE[done])
        return delivery.status


def _scheduled_attempts(session: Any, delivery_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id, WebhookAttempt.trigger == "auto")
    )


def _finish_without_attempt(hub: Hub, delivery_id: int, reason: str) -> str:
    with hub.db.transaction() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is not None and delivery.status == "pending":
            delivery.status = "failed"
            delivery.last_error = reason
            delivery.next_attempt_at = None
    return "failed"


def replay(hub: Hub, merchant_id: int, delivery_id: int) -> WebhookDelivery:
    """Attempt a delivery once more by hand (a job of its own); return the delivery."""
    with hub.db.session() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.merchant_id != merchant_id:
            raise NotFound(f"webhook delivery {delivery_id} not found", code="delivery_not_found")
        endpoint = get_endpoint(session, merchant_id, delivery.endpoint_id)
        if endpoint.status != "active":
            raise Conflict(
                f"webhook endpoint {endpoint.id} is disabled; enable it "
                f"(PATCH status=active) before replaying",
                code="endpoint_disabled",
            )
        replays = session.scalar(
            select(func.count())
            .select_from(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id, WebhookAttempt.trigger == "replay")
        )
    hub.jobs.enqueue(
        "webhooks.outbound.deliver",
        delivery_id,
        "replay",
        job_id=f"{delivery_job_id(delivery_id)}-replay-{replays + 1}-{int(time.time())}",
        queue="outbound",
        meta={"plugin": "webhooks", "delivery_id": delivery_id, "direction": "outbound"},
    )
    return delivery
