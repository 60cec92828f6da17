"""Counter keys: issue, list, revoke, and authenticate a till in one query.

A key is ``pos_<prefix>_<secret>``: the prefix finds the row, the secret is
compared as a SHA-256 in constant time, as merchant API keys are. A POS key is
scoped to its connection: it opens the counter API (``/pos/v1``) and the
cashier page of that connection, never the merchant API, whose keys start
with ``hub_``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.pos.models import PosKey
from hub import Connection
from hub import Merchant
from hub import NotFound
from hub import ValidationError
from hub import record_audit
from hub import utcnow

KEY_PREFIX = "pos"
CONNECTOR = "pos"


@dataclass(frozen=True)
class IssuedPosKey:
    """A new key: ``key`` is shown once and never stored."""

    id: int
    connection_id: int
    name: str
    prefix: str
    key: str


@dataclass(frozen=True)
class Counter:
    """Who is calling: one POS connection of one merchant, through one of its keys."""

    key_id: int
    merchant_id: int
    connection_id: int
    location: str
    settings: dict[str, Any]
    shop: str
    currency: str
    locale: str
    timezone: str

    @property
    def actor(self) -> str:
        return f"pos:{self.connection_id}"

    @property
    def consent_source(self) -> str:
        """Where consents given at this counter are recorded as coming from."""
        return f"pos:{self.location}"[:64]


def location_of(connection: Connection) -> str:
    """The counter's location name: the connection's ``location`` setting, or its name."""
    return str((connection.settings or {}).get("location") or connection.name or "counter")


def pos_connection(session: Session, merchant_id: int, connection_id: int) -> Connection:
    """Return the merchant's live POS connection, or raise NotFound."""
    connection = session.get(Connection, connection_id)
    if (
        connection is None
        or connection.merchant_id != merchant_id
        or connection.status == "deleted"
        or connection.connector != CONNECTOR
    ):
        raise NotFound(
            f"POS connection {connection_id} not found; create one with "
            f'POST /api/v1/connections {{"connector": "pos"}}',
            code="connection_not_found",
        )
    return connection


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(
    session: Session, merchant_id: int, connection_id: int, *, name: str = "", actor: str
) -> IssuedPosKey:
    """Make a new key for the connection's tills; earlier keys keep working until revoked."""
    connection = pos_connection(session, merchant_id, connection_id)
    if len(name) > 100:
        raise ValidationError("a key name is at most 100 characters", details={"name": ["long"]})
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = PosKey(
        merchant_id=merchant_id,
        connection_id=connection.id,
        prefix=prefix,
        secret_hash=_hash(secret),
        name=name,
    )
    session.add(row)
    session.flush()
    record_audit(
        session,
        merchant_id,
        actor=actor,
        action="pos_key.created",
        object_type="pos_key",
        object_id=row.id,
        data={"connection_id": connection.id, "prefix": prefix, "name": name},
    )
    return IssuedPosKey(
        id=row.id,
        connection_id=connection.id,
        name=name,
        prefix=prefix,
        key=f"{KEY_PREFIX}_{prefix}_{secret}",
    )


def list_keys(session: Session, merchant_id: int, connection_id: int) -> list[PosKey]:
    pos_connection(session, merchant_id, connection_id)
    return list(
        session.scalars(
            select(PosKey).where(PosKey.connection_id == connection_id).order_by(PosKey.id)
        )
    )


def revoke_key(
    session: Session, merchant_id: int, connection_id: int, key_id: int, *, actor: str
) -> PosKey:
    """Revoke a key: calls with it answer 401 at once, cashier sessions end."""
    pos_connection(session, merchant_id, connection_id)
    row = session.get(PosKey, key_id)
    if row is None or row.connection_id != connection_id:
        raise NotFound(f"POS key {key_id} not found", code="pos_key_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record_audit(
            session,
            merchant_id,
            actor=actor,
            action="pos_key.revoked",
            object_type="pos_key",
            object_id=row.id,
            data={"connection_id": connection_id, "prefix": row.prefix},
        )
    return row


def split_key(presented: str) -> tuple[str, str] | None:
    """Return (prefix, secret) of a well-formed POS key, else None."""
    parts = (presented or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def _counter_query():
    return (
        select(
            PosKey,
            Connection.name,
            Connection.settings,
            Connection.status,
            Connection.connector,
            Merchant.name.label("shop"),
            Merchant.currency,
            Merchant.locale,
            Merchant.timezone,
        )
        .join(Connection, Connection.id == PosKey.connection_id)
        .join(Merchant, Merchant.id == PosKey.merchant_id)
    )


def _counter(row: Any) -> Counter | None:
    key = row[0]
    if key.revoked_at is not None or row.status != "active" or row.connector != CONNECTOR:
        return None
    settings = dict(row.settings or {})
    return Counter(
        key_id=key.id,
        merchant_id=key.merchant_id,
        connection_id=key.connection_id,
        location=str(settings.get("location") or row.name or "counter"),
        settings=settings,
        shop=row.shop,
        currency=row.currency,
        locale=row.locale,
        timezone=row.timezone,
    )


def authenticate(session: Session, presented: str) -> Counter | None:
    """Return the counter a presented key opens, or None: one query, constant-time compare."""
    parts = split_key(presented)
    if parts is None:
        return None
    row = session.execute(_counter_query().where(PosKey.prefix == parts[0])).first()
    if row is None or not hmac.compare_digest(row[0].secret_hash, _hash(parts[1])):
        return None
    return _counter(row)


def counter_for_key(session: Session, key_id: int) -> Counter | None:
    """Return the counter of a key by id (a cashier session), or None once it is revoked."""
    row = session.execute(_counter_query().where(PosKey.id == key_id)).first()
    return _counter(row) if row is not None else None
