"""Visitor identity for the widget: short-lived HS256 tokens signed by the store's server.

The store (or its connector's app proxy) signs ``{"sub": <the store's customer id>,
"iat": <now>, "exp": <now + at most 5 minutes>}`` with the connection's widget
secret. Nothing the browser sends is trusted without that signature: a missing,
malformed, forged or expired token simply gives the guest view.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

MAX_LIFETIME = 300  # seconds a token may live: the widget asks the store for a fresh one
LEEWAY = 30  # clock skew tolerated between the store's server and the hub
SECRET_PREFIX = "wsk_"


class TokenError(ValueError):
    """Why a token was not accepted (logged for the merchant, never shown to visitors)."""


@dataclass(frozen=True)
class VisitorClaims:
    customer_id: str
    issued_at: int
    expires_at: int


def new_widget_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: dict[str, Any], secret: str) -> str:
    """Make a token, as a store's server does (used by the demo and the tests)."""
    header = _b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
    digest = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64encode(digest)}"


def sign_visitor(customer_id: str, secret: str, *, lifetime: int = MAX_LIFETIME) -> str:
    now = int(time.time())
    return sign({"sub": str(customer_id), "iat": now, "exp": now + lifetime}, secret)


def verify(token: str, secret: str, *, now: float | None = None) -> VisitorClaims:
    """Return the claims of a valid token; raise ``TokenError`` otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("not a JWT")
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
        signature = _b64decode(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError(f"undecodable token: {exc}") from None
    # Only HS256: "none" and public-key algorithms are refused outright.
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise TokenError("only HS256 tokens are accepted")
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise TokenError("bad signature")
    return _check_claims(claims, time.time() if now is None else now)


def _check_claims(claims: Any, now: float) -> VisitorClaims:
    if not isinstance(claims, dict):
        raise TokenError("claims are not an object")
    sub, iat, exp = claims.get("sub"), claims.get("iat"), claims.get("exp")
    if not isinstance(sub, str | int) or str(sub) == "":
        raise TokenError("no customer id (sub)")
    if not isinstance(exp, int) or not isinstance(iat, int):
        raise TokenError("iat and exp must be whole seconds")
    if exp < now - LEEWAY:
        raise TokenError("expired")
    if iat > now + LEEWAY:
        raise TokenError("issued in the future")
    if exp - iat > MAX_LIFETIME:
        raise TokenError(f"lives longer than {MAX_LIFETIME} seconds")
    return VisitorClaims(customer_id=str(sub), issued_at=iat, expires_at=exp)
