"""Call KiotViet's Public API for one connection: a client-credentials token, kept until expiry.

Auth per the Public API guide v1.4 [V-copy]: ``POST https://id.kiotviet.vn/connect/token``
with ``scopes=PublicApi.Access&grant_type=client_credentials&client_id=..&client_secret=..``
answers ``{"access_token", "expires_in", "token_type": "Bearer"}``; every API call
sends ``Retailer: <shop name>`` and ``Authorization: Bearer <token>`` to
``https://public.kiotapi.com``.

The token is stored, encrypted, in the connection's secrets with its expiry
and reused until shortly before it; a refresh happens under a lock per
connection (``refresh_connection_secrets``), so workers finding it stale at
once fetch one token, not one each. A 401 from the API refreshes once and
retries once. The operator may point both URLs elsewhere (a sandbox, the
simulator) in ``HUB_PLUGINS_CONFIG["kiotviet"]`` as ``token_url`` and ``api_url``.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from hub import Connection
from hub import OutsideResponse
from hub import OutsideUnreachable
from hub import PermanentError
from hub import RetryLater
from hub import outside_http
from hub import refresh_connection_secrets
from hub import utcnow

if TYPE_CHECKING:
    from hub import Hub

TOKEN_URL = "https://id.kiotviet.vn/connect/token"
API_URL = "https://public.kiotapi.com"
SCOPES = "PublicApi.Access"
#: Connect and read timeouts of every call, in seconds.
TIMEOUT = (5, 20)
#: A token this close to its expiry is refreshed before use.
MARGIN = timedelta(minutes=5)


def endpoints(hub: Hub) -> tuple[str, str]:
    """The token URL and the API base URL this hub talks to."""
    settings = hub.plugin_config("kiotviet")
    token_url = settings.get("token_url") or TOKEN_URL
    return token_url, (settings.get("api_url") or API_URL).rstrip("/")


def _stale(secrets: dict[str, Any], failed: str | None) -> bool:
    token = secrets.get("access_token")
    if not token or (failed is not None and token == failed):
        return True
    try:
        expires = datetime.fromisoformat(secrets.get("access_token_expires_at") or "")
    except ValueError:
        return True
    return expires - MARGIN <= utcnow()


def _fetch(hub: Hub, connection_id: int, secrets: dict[str, Any]) -> dict[str, Any]:
    client_id, client_secret = secrets.get("client_id"), secrets.get("client_secret")
    if not (client_id and client_secret):
        raise PermanentError(
            f"KiotViet connection {connection_id} has no client_id and client_secret; add "
            f"the Public API credentials KiotViet gives the shop to its secrets"
        )
    token_url, _ = endpoints(hub)
    form = {
        "scopes": SCOPES,
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
    }
    try:
        response = outside_http(hub).post(token_url, data=form, timeout=TIMEOUT)
    except OutsideUnreachable as exc:
        raise RetryLater(f"KiotViet token endpoint unreachable: {exc}") from exc
    _raise_for(response, f"the token request of KiotViet connection {connection_id}")
    try:
        body = response.json()
        token, lifetime = body["access_token"], int(body.get("expires_in") or 3600)
    except (ValueError, KeyError, TypeError) as exc:
        raise RetryLater(
            f"KiotViet answered the token request with {response.text[:200]!r}"
        ) from exc
    return {
        "access_token": token,
        "access_token_expires_at": (utcnow() + timedelta(seconds=lifetime)).isoformat(),
    }


def access_token(hub: Hub, connection_id: int, *, failed: str | None = None) -> str:
    """Return a live token for the connection, fetching one when it has none or it expires.

    ``failed`` is a token the API just refused: it is replaced, unless another
    worker has replaced it already.
    """
    secrets = refresh_connection_secrets(
        hub,
        connection_id,
        needs_refresh=lambda current: _stale(current, failed),
        refresh=lambda current: _fetch(hub, connection_id, current),
    )
    return secrets["access_token"]


def _raise_for(response: OutsideResponse, what: str) -> None:
    """Classify a failed answer once: transient ones retry later, the rest fail for good."""
    if response.status_code < 400:
        return
    detail = f"{what} answered {response.status_code}: {response.text[:300]}"
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryLater(detail)
    raise PermanentError(detail)


def call(hub: Hub, connection: Connection, method: str, path: str, *, json: Any = None) -> Any:
    """Call the API as the connection's shop; return the JSON answer (None when empty)."""
    retailer = (connection.settings or {}).get("retailer")
    if not retailer:
        raise PermanentError(
            f"KiotViet connection {connection.id} has no retailer setting: set it to the "
            f"shop name KiotViet shows (the Retailer of its API)"
        )
    _, api_url = endpoints(hub)
    token = access_token(hub, connection.id)
    for attempt in (1, 2):
        headers = {"Retailer": retailer, "Authorization": f"Bearer {token}"}
        try:
            response = outside_http(hub).request(
                method, api_url + path, json=json, headers=headers, timeout=TIMEOUT
            )
        except OutsideUnreachable as exc:
            raise RetryLater(f"KiotViet API unreachable: {exc}") from exc
        if response.status_code == 401 and attempt == 1:
            token = access_token(hub, connection.id, failed=token)
            continue
        _raise_for(response, f"KiotViet {method} {path} for connection {connection.id}")
        return response.json() if response.content else None
    raise AssertionError("unreachable")
