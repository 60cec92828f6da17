"""Merchants' webhook endpoints: create, change, rotate the secret, disable."""

from __future__ import annotations

import re
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import AddressPolicy
from hub import BlockedURL
from hub import Hub
from hub import NotFound
from hub import ValidationError
from hub import check_outside_url
from hub import emit
from hub import record_audit
from hub import utcnow
from webhooks.models import WebhookDelivery
from webhooks.models import WebhookEndpoint
from webhooks.signing import new_secret

#: After a rotation the previous secret keeps signing this long.
PREVIOUS_SECRET_TTL = timedelta(hours=24)
EVENT_TYPE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


def allow_loopback(hub: Hub) -> bool:
    """Tell whether endpoints may be on loopback (``HUB_WEBHOOKS_ALLOW_LOOPBACK``)."""
    return bool(hub.config.get("HUB_WEBHOOKS_ALLOW_LOOPBACK"))


def address_policy(hub: Hub) -> AddressPolicy:
    """Return the policy endpoint URLs are checked against, from the operator's settings."""
    return AddressPolicy(
        allow_loopback=allow_loopback(hub),
        allow_private=bool(hub.config.get("HUB_ALLOW_PRIVATE_TARGETS")),
    )


def check_url(hub: Hub, url: str) -> str:
    """Return the URL if an endpoint may have it, or raise ValidationError (422)."""
    try:
        check_outside_url(url, address_policy(hub))
    except BlockedURL as exc:
        raise ValidationError(
            f"the endpoint URL is not allowed: {exc}; use a public http(s) URL",
            details={"url": [str(exc)]},
        ) from None
    return url


def check_event_types(event_types: list[str]) -> list[str]:
    """Return the event types, deduplicated, or raise ValidationError."""
    if not event_types:
        raise ValidationError(
            'an endpoint needs at least one event type, or ["*"] for all',
            details={"event_types": ["at least one"]},
        )
    bad = [t for t in event_types if t != "*" and not EVENT_TYPE.match(t)]
    if bad:
        raise ValidationError(
            f"unknown event type format: {', '.join(bad)}; use dotted names like order.received",
            details={"event_types": [f"invalid: {t}" for t in bad]},
        )
    return ["*"] if "*" in event_types else sorted(set(event_types))


def get_endpoint(session: Session, merchant_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.merchant_id != merchant_id:
        raise NotFound(f"webhook endpoint {endpoint_id} not found", code="endpoint_not_found")
    return endpoint


def list_endpoints(
    session: Session, merchant_id: int, *, after_id: int | None, limit: int
) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(WebhookEndpoint.merchant_id == merchant_id)
    if after_id is not None:
        query = query.where(WebhookEndpoint.id > after_id)
    return list(session.scalars(query.order_by(WebhookEndpoint.id).limit(limit)))


def endpoint_deliveries(
    session: Session, merchant_id: int, endpoint_id: int, *, before_id: int | None, limit: int
) -> list[WebhookDelivery]:
    """The endpoint's deliveries, newest first, a page at a time (the API's and the console's)."""
    get_endpoint(session, merchant_id, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def create_endpoint(
    hub: Hub,
    session: Session,
    merchant_id: int,
    *,
    url: str,
    event_types: list[str],
    description: str = "",
    actor: str = "api",
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; return it and its secret, which is shown this once."""
    secret = new_secret()
    endpoint = WebhookEndpoint(
        merchant_id=merchant_id,
        url=check_url(hub, url),
        event_types=check_event_types(event_types),
        description=description,
        secrets_encrypted=hub.secrets.encrypt({"secret": secret}),
        status="active",
    )
    session.add(endpoint)
    session.flush()
    _audit(session, endpoint, actor, "webhook_endpoint.created", {"url": url})
    return endpoint, secret


def update_endpoint(
    hub: Hub, session: Session, endpoint: WebhookEndpoint, changes: dict[str, Any], *, actor: str
) -> WebhookEndpoint:
    """Change URL, event types, description or status; enabling clears the failure run."""
    if "url" in changes:
        endpoint.url = check_url(hub, changes["url"])
    if "event_types" in changes:
        endpoint.event_types = check_event_types(changes["event_types"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "status" in changes and changes["status"] != endpoint.status:
        endpoint.status = changes["status"]
        endpoint.failing_since = None
        endpoint.disabled_reason = None if endpoint.status == "active" else "disabled by hand"
    _audit(session, endpoint, actor, "webhook_endpoint.updated", {"fields": sorted(changes)})
    return endpoint


def delete_endpoint(session: Session, endpoint: WebhookEndpoint, *, actor: str) -> None:
    _audit(session, endpoint, actor, "webhook_endpoint.deleted", {"url": endpoint.url})
    session.delete(endpoint)


def rotate_secret(
    hub: Hub, session: Session, endpoint: WebhookEndpoint, *, actor: str
) -> tuple[str, datetime]:
    """Give the endpoint a new secret; the old one keeps signing for 24 hours.

    Return the new secret (shown this once) and when the old one stops signing.
    """
    current = hub.secrets.decrypt(endpoint.secrets_encrypted)
    secret = new_secret()
    expires_at = utcnow() + PREVIOUS_SECRET_TTL
    endpoint.secrets_encrypted = hub.secrets.encrypt(
        {"secret": secret, "previous": current["secret"]}
    )
    endpoint.previous_secret_expires_at = expires_at
    _audit(session, endpoint, actor, "webhook_endpoint.secret_rotated", {})
    return secret, expires_at


def signing_secrets(hub: Hub, endpoint: WebhookEndpoint) -> list[str]:
    """Return the secrets that sign now: the current one, and the previous while it lasts."""
    stored = hub.secrets.decrypt(endpoint.secrets_encrypted)
    result = [stored["secret"]]
    expires = endpoint.previous_secret_expires_at
    if stored.get("previous") and expires is not None and utcnow() < expires:
        result.append(stored["previous"])
    return result


def disable_endpoint(session: Session, endpoint: WebhookEndpoint, reason: str) -> None:
    """Disable an endpoint the hub gave up on; tell the merchant (event and audit record)."""
    if endpoint.status == "disabled":
        return
    endpoint.status = "disabled"
    endpoint.disabled_reason = reason
    _audit(session, endpoint, "system", "webhook_endpoint.disabled", {"reason": reason})
    emit(
        session,
        "webhook_endpoint.disabled",
        endpoint.merchant_id,
        {"endpoint_id": endpoint.id, "url": endpoint.url, "reason": reason},
    )


def _audit(
    session: Session, endpoint: WebhookEndpoint, actor: str, action: str, data: dict
) -> None:
    record_audit(
        session,
        endpoint.merchant_id,
        actor=actor,
        action=action,
        object_type="webhook_endpoint",
        object_id=endpoint.id,
        data=data,
    )
