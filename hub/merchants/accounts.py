"""Merchants and API keys: create, authenticate, revoke."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.currencies import check_currency
from hub.db import utcnow
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.models import ApiKey
from hub.models import Merchant

KEY_PREFIX = "hub"
PREFIX_LENGTH = 12  # hexadecimal characters between "hub_" and the secret


@dataclass(frozen=True)
class IssuedKey:
    """A new API key: ``secret`` is shown once and never stored."""

    id: int
    merchant_id: int
    secret: str


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"unknown timezone {name!r}",
            details={"timezone": ["use an IANA name such as Asia/Ho_Chi_Minh"]},
        ) from None
    return name


def update_merchant(
    session: Session, merchant_id: int, changes: dict[str, Any], *, actor: str
) -> Merchant:
    """Change the merchant's name, currency, timezone or locale (loaded by ``MerchantSchema``).

    The console's Settings page and ``PATCH /api/v1/merchant`` both change it here.
    :raise ValidationError: an unknown timezone or currency.
    """
    if "timezone" in changes:
        check_timezone(changes["timezone"])
    if "currency" in changes:
        changes = {**changes, "currency": check_currency(changes["currency"])}
    merchant = session.get(Merchant, merchant_id)
    for key, value in changes.items():
        setattr(merchant, key, value)
    audit.record(
        session,
        merchant_id,
        actor=actor,
        action="merchant.updated",
        object_type="merchant",
        object_id=merchant_id,
        data={"fields": sorted(changes)},
    )
    return merchant


def create_merchant(
    session: Session,
    name: str,
    *,
    currency: str = "VND",
    timezone: str = "Asia/Ho_Chi_Minh",
    locale: str = "vi",
) -> Merchant:
    """Create a merchant; the caller commits."""
    if not name.strip():
        raise ValidationError("a merchant needs a name", details={"name": ["required"]})
    merchant = Merchant(
        name=name.strip(),
        currency=check_currency(currency),
        timezone=check_timezone(timezone),
        locale=locale,
    )
    session.add(merchant)
    session.flush()
    return merchant


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    session: Session, merchant_id: int, *, name: str = "", actor: str = "cli"
) -> IssuedKey:
    """Issue a key ``hub_<prefix>_<secret>``; only the secret's hash is kept."""
    if session.get(Merchant, merchant_id) is None:
        raise NotFound(f"merchant {merchant_id} does not exist")
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(merchant_id=merchant_id, prefix=prefix, secret_hash=_hash(secret), name=name)
    session.add(key)
    session.flush()
    audit.record(
        session,
        merchant_id,
        actor=actor,
        action="api_key.created",
        object_type="api_key",
        object_id=key.id,
        data={"prefix": prefix, "name": name},
    )
    return IssuedKey(id=key.id, merchant_id=merchant_id, secret=f"{KEY_PREFIX}_{prefix}_{secret}")


def revoke_api_key(session: Session, key_id_or_prefix: str, *, actor: str = "cli") -> ApiKey:
    """Revoke a key by id, prefix or the whole key; requests with it answer 401 from then on.

    A prefix is twelve hexadecimal characters and may be all digits, so a twelve-character
    argument always names a prefix; a shorter run of digits is an id.
    """
    given = key_id_or_prefix.strip()
    if given.startswith(f"{KEY_PREFIX}_"):
        given = given.split("_", 2)[1]
    query = select(ApiKey)
    if given.isdigit() and len(given) < PREFIX_LENGTH:
        query = query.where(ApiKey.id == int(given))
    else:
        query = query.where(ApiKey.prefix == given)
    key = session.scalars(query).first()
    if key is None:
        raise NotFound(f"no API key {key_id_or_prefix!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session,
            key.merchant_id,
            actor=actor,
            action="api_key.revoked",
            object_type="api_key",
            object_id=key.id,
            data={"prefix": key.prefix},
        )
    return key


def authenticate(session: Session, presented: str) -> ApiKey | None:
    """Return the live key that ``presented`` is, or None. Constant-time compare."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = session.scalars(select(ApiKey).where(ApiKey.prefix == parts[1])).first()
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, _hash(parts[2])):
        return None
    return key


def list_api_keys(session: Session, merchant_id: int) -> list[ApiKey]:
    """The merchant's keys, revoked ones included, oldest first (hashes only, no secrets)."""
    return list(
        session.scalars(select(ApiKey).where(ApiKey.merchant_id == merchant_id).order_by(ApiKey.id))
    )
