"""The OA access token: used until it nears expiry, then refreshed, once.

Zalo's OA access token lasts about 25 hours and its refresh token about
three months, and a refresh token works once: reusing it answers error
-14020 (Zalo developer community; Zalo's PHP SDK OAuth2Client). So the
refresh goes through ``refresh_connection_secrets``, which lets one worker
refresh under a lock and hands the others the new pair; the pair is stored
together.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import Any

from hub import OutsideUnreachable
from hub import PermanentError
from hub import RetryLater
from hub import outside_http
from hub import refresh_connection_secrets
from hub import utcnow

OAUTH_URL = "https://oauth.zaloapp.com"
TOKEN_PATH = "/v4/oa/access_token"
TIMEOUT = (5, 20)
#: Refresh this long before the token's stated expiry.
MARGIN = timedelta(minutes=5)
#: A refresh token that was used or has expired.
REFRESH_TOKEN_INVALID = -14020


def expired(secrets: dict[str, Any], now: datetime) -> bool:
    expires = secrets.get("access_token_expires_at")
    if not secrets.get("access_token") or not expires:
        return True
    return datetime.fromisoformat(expires) - MARGIN <= now


def access_token(hub, connection, *, rejected: str | None = None) -> str:
    """Return a usable access token, refreshing it first if stale or if Zalo ``rejected`` it."""

    def needs_refresh(secrets: dict[str, Any]) -> bool:
        if rejected is not None:
            # Another worker may have refreshed since ours was refused.
            return secrets.get("access_token") in (rejected, None)
        return expired(secrets, utcnow())

    def refresh(secrets: dict[str, Any]) -> dict[str, Any]:
        return _refresh(hub, connection, secrets)

    secrets = refresh_connection_secrets(
        hub, connection.id, needs_refresh=needs_refresh, refresh=refresh
    )
    return secrets["access_token"]


def _refresh(hub, connection, secrets: dict[str, Any]) -> dict[str, Any]:
    settings = connection.settings or {}
    app_id, app_secret = settings.get("app_id"), secrets.get("app_secret")
    if not app_id or not app_secret:
        raise PermanentError(
            f"connection {connection.id} (Zalo) needs settings.app_id and the app_secret "
            "secret to refresh its token"
        )
    if secrets.get("refresh_token"):
        form = {
            "refresh_token": secrets["refresh_token"],
            "app_id": app_id,
            "grant_type": "refresh_token",
        }
    elif secrets.get("authorization_code"):
        form = {
            "code": secrets["authorization_code"],
            "app_id": app_id,
            "grant_type": "authorization_code",
            "code_verifier": secrets.get("code_verifier", ""),
        }
    else:
        raise PermanentError(
            f"connection {connection.id} (Zalo) has no refresh_token: authorize the OA and "
            "store its tokens (see docs/gateways/zalo.md)"
        )
    url = (hub.plugin_config("zalo").get("oauth_url") or OAUTH_URL).rstrip("/") + TOKEN_PATH
    try:
        response = outside_http(hub).post(
            url, data=form, headers={"secret_key": app_secret}, timeout=TIMEOUT
        )
    except OutsideUnreachable as exc:
        raise RetryLater(f"Zalo's token endpoint could not be reached: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryLater(f"Zalo's token endpoint answered HTTP {response.status_code}")
    try:
        answer = response.json()
    except ValueError:
        raise RetryLater("Zalo's token endpoint answered without JSON") from None
    if not isinstance(answer, dict) or not answer.get("access_token"):
        error = answer.get("error") if isinstance(answer, dict) else None
        detail = answer.get("error_description") or answer.get("error_name") or ""
        raise PermanentError(
            f"Zalo refused to refresh the token of connection {connection.id} "
            f"(error {error}: {detail}); authorize the OA again and store the new tokens"
        )
    expires_in = int(answer.get("expires_in") or 90000)
    return {
        "access_token": answer["access_token"],
        "refresh_token": answer.get("refresh_token") or secrets.get("refresh_token"),
        "access_token_expires_at": (utcnow() + timedelta(seconds=expires_in)).isoformat(),
        "authorization_code": None,
    }
