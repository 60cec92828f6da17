"""A merchant's secrets for signing events sent to ``POST /api/v1/events``.

A storefront server or a review app holding one can report what members did
without holding the merchant's API key: requests are signed the Standard
Webhooks way (``hub.api.event_signatures`` checks them). Each secret is shown
once, when made; a new one leaves the earlier ones valid for
``ROTATION_GRACE``, so senders can sign with both while they switch.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.models import EventSigningSecret

if TYPE_CHECKING:
    from hub.core import Hub

PREFIX = "whsec_"
#: How long the earlier secrets keep working after a new one is made.
ROTATION_GRACE = timedelta(hours=24)


@dataclass(frozen=True)
class NewSecret:
    """A secret just made: ``secret`` is never shown again."""

    id: int
    secret: str
    hint: str
    created_at: datetime


def create_event_secret(
    hub: Hub, session: Session, merchant_id: int, *, actor: str, now: datetime
) -> NewSecret:
    """Make a new signing secret; earlier ones stop working ``ROTATION_GRACE`` from now."""
    for row in _in_force(session, merchant_id, now):
        if row.expires_at is None or row.expires_at > now + ROTATION_GRACE:
            row.expires_at = now + ROTATION_GRACE
    secret = PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
    row = EventSigningSecret(
        merchant_id=merchant_id,
        secret_encrypted=hub.secrets.encrypt({"secret": secret}),
        hint=secret[: len(PREFIX) + 4],
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, merchant_id, actor=actor, action="events.secret_created",
        object_type="event_signing_secret", object_id=row.id, data={"hint": row.hint},
    )  # fmt: skip
    return NewSecret(id=row.id, secret=secret, hint=row.hint, created_at=now)


def list_event_secrets(session: Session, merchant_id: int, now: datetime) -> list[dict]:
    """The secrets still in force, newest first: id, hint, when made, when they stop."""
    return [
        {"id": row.id, "hint": row.hint, "created_at": row.created_at, "expires_at": row.expires_at}
        for row in _in_force(session, merchant_id, now)
    ]


def signing_keys(hub: Hub, session: Session, merchant_id: int, now: datetime) -> list[bytes]:
    """The HMAC keys a signed request of the merchant may use at ``now``."""
    return [
        base64.b64decode(hub.secrets.decrypt(row.secret_encrypted)["secret"][len(PREFIX) :])
        for row in _in_force(session, merchant_id, now)
    ]


def _in_force(session: Session, merchant_id: int, now: datetime) -> list[EventSigningSecret]:
    return list(
        session.scalars(
            select(EventSigningSecret)
            .where(
                EventSigningSecret.merchant_id == merchant_id,
                or_(EventSigningSecret.expires_at.is_(None), EventSigningSecret.expires_at > now),
            )
            .order_by(EventSigningSecret.id.desc())
        )
    )
