"""The cashier page's sign-in session and CSRF tokens.

Signing in with a POS key sets one cookie: HttpOnly, ``SameSite=Strict``,
``Secure`` over HTTPS, scoped to ``/pos/cashier``, signed with the hub's
secret key, lasting one shift. It holds the key's id (never the key) and a
CSRF token every form sends back; each request checks the key is still
live, so revoking it ends its sessions at once. Before sign-in a separate
cookie carries the sign-in form's CSRF token (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from flask import Response
from flask import current_app
from flask import request
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

from hub import current_hub

SESSION_COOKIE = "hub_pos_cashier"
SIGN_IN_COOKIE = "hub_pos_sign_in"
LANG_COOKIE = "hub_pos_lang"
PATH = "/pos/cashier"
SHIFT_SECONDS = 12 * 3600
SIGN_IN_SECONDS = 3600


@dataclass(frozen=True)
class CashierSession:
    key_id: int
    csrf: str


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _secure() -> bool:
    forced = current_hub().plugin_config("pos").get("secure_cookies")
    return bool(forced) if forced is not None else request.is_secure


def _set(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PATH,
        httponly=True,
        samesite="Strict",
        secure=_secure(),
    )


def read_session() -> CashierSession | None:
    """The signed-in session of this request, or None (missing, forged or past its shift)."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer("pos-cashier").loads(raw, max_age=SHIFT_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("k"), int):
        return None
    return CashierSession(key_id=data["k"], csrf=str(data.get("c") or ""))


def start_session(response: Response, key_id: int) -> None:
    token = _serializer("pos-cashier").dumps({"k": key_id, "c": secrets.token_urlsafe(24)})
    _set(response, SESSION_COOKIE, token, SHIFT_SECONDS)
    response.delete_cookie(SIGN_IN_COOKIE, path=PATH)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PATH, httponly=True, samesite="Strict")


def sign_in_token() -> tuple[str, bool]:
    """The sign-in form's CSRF token, and whether the cookie carrying it must be set."""
    current = request.cookies.get(SIGN_IN_COOKIE)
    if current and len(current) >= 24:
        return current, False
    return secrets.token_urlsafe(24), True


def remember_sign_in_token(response: Response, token: str) -> None:
    _set(response, SIGN_IN_COOKIE, token, SIGN_IN_SECONDS)


def same(expected: str | None, presented: Any) -> bool:
    """Constant-time comparison of a CSRF token; an empty one never matches."""
    if not expected or not isinstance(presented, str) or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


def sign_notice(data: dict[str, Any]) -> str:
    """Sign what an action did, for the page the browser is redirected to."""
    return _serializer("pos-cashier-notice").dumps(data)


def read_notice(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        data = _serializer("pos-cashier-notice").loads(raw, max_age=300)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def set_language(response: Response, lang: str) -> None:
    _set(response, LANG_COOKIE, lang, 365 * 24 * 3600)
