"""Calls to a store's GraphQL Admin API, within its cost-based rate limit.

Shopify limits GraphQL calls by calculated query cost: a bucket of points per
app and store that refills at a restore rate (shopify.dev "GraphQL Admin API
rate limits"). Every answer reports ``extensions.cost.throttleStatus``
(``maximumAvailable``, ``currentlyAvailable``, ``restoreRate``); a call over
the limit answers ``errors[].extensions.code == "THROTTLED"`` with the same
extensions and, per community reports, sometimes HTTP 429 [C: community.shopify.com
threads quoting real responses; the docs show the body, not the status]. So the
client waits for the points it needs before a call, and waits and retries a
throttled call a few times before giving up with ``RetryLater``.

Failures are classified once: timeouts, connection errors, 429 and 5xx are
transient (``RetryLater``); 401/403 mean the token was revoked (the app was
uninstalled) and other 4xx and GraphQL errors are permanent (``PermanentError``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub import OutsideHTTP
from hub import OutsideResponse
from hub import OutsideUnreachable
from hub import PermanentError
from hub import RetryLater

log = logging.getLogger(__name__)

#: The API version this connector is written against (a per-connection setting may pin another).
API_VERSION = "2026-01"
#: Connect and read timeouts of every call, in seconds.
TIMEOUT = (5, 30)
#: Longest the client sleeps in one call waiting for the bucket before giving up.
MAX_WAIT_SECONDS = 30.0
#: A guess at a call's cost before the first answer has said what the bucket holds.
DEFAULT_COST = 50


class TokenRefused(PermanentError):
    """The store refused the access token: the app was uninstalled or the token revoked."""


@dataclass
class Throttle:
    available: float | None = None
    maximum: float | None = None
    restore_rate: float | None = None
    seen_at: float = 0.0

    def now_available(self, clock: float) -> float | None:
        if self.available is None or self.restore_rate is None:
            return None
        refilled = self.available + (clock - self.seen_at) * self.restore_rate
        return min(refilled, self.maximum or refilled)

    def wait_for(self, cost: float, clock: float) -> float:
        """Seconds to wait before ``cost`` points are in the bucket (0: go now)."""
        available = self.now_available(clock)
        if available is None or available >= cost or not self.restore_rate:
            return 0.0
        return (cost - available) / self.restore_rate


class ShopifyAdmin:
    """A GraphQL Admin API client for one store and one access token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        api_version: str = API_VERSION,
        http: OutsideHTTP | None = None,
        sleep: Callable[[float], None] | None = None,
        max_wait: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self.token = token
        self.http = http or OutsideHTTP()
        self.sleep = sleep or time.sleep
        self.max_wait = max_wait
        self.throttle = Throttle()

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, cost: float = DEFAULT_COST
    ) -> dict[str, Any]:
        """Run one query or mutation; return its ``data``.

        ``cost`` is the expected cost, used to wait for the bucket beforehand.
        :raise RetryLater: a transient failure, or still throttled after waiting.
        :raise PermanentError: the call can never succeed as it is.
        """
        waited = 0.0
        while True:
            pause = self.throttle.wait_for(cost, time.monotonic())
            if pause > 0:
                if waited + pause > self.max_wait:
                    raise RetryLater(f"Shopify's rate limit needs {pause:.1f}s more; later")
                self.sleep(pause)
                waited += pause
            answer, retry_after = self._post(query, variables)
            if answer is not None:
                return answer
            pause = max(retry_after, 0.5)
            if waited + pause > self.max_wait:
                raise RetryLater("Shopify is still throttling this store; retrying later")
            self.sleep(pause)
            waited += pause

    def _post(
        self, query: str, variables: dict[str, Any] | None
    ) -> tuple[dict[str, Any] | None, float]:
        """Make one request; return (data, 0) or (None, seconds to wait) when throttled."""
        try:
            response = self.http.post(
                self.url,
                json={"query": query, "variables": variables or {}},
                headers={"X-Shopify-Access-Token": self.token, "Accept": "application/json"},
                timeout=TIMEOUT,
            )
        except OutsideUnreachable as exc:
            raise RetryLater(f"Shopify did not answer: {exc}") from exc
        if response.status_code in (401, 403):
            raise TokenRefused(
                f"Shopify refused the access token ({response.status_code}); "
                f"reinstall the app or paste a new token"
            )
        body = _json(response)
        self._note_cost(body)
        if response.status_code == 429 or _throttled(body):
            return None, _retry_after(response, body, self.throttle)
        if response.status_code >= 500:
            raise RetryLater(f"Shopify answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentError(f"Shopify answered {response.status_code}: {response.text[:300]}")
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            raise PermanentError(f"Shopify refused the query: {_messages(errors)}")
        return (body.get("data") or {}), 0.0

    def _note_cost(self, body: Any) -> None:
        status = (
            ((body or {}).get("extensions") or {}).get("cost", {}).get("throttleStatus")
            if isinstance(body, dict)
            else None
        )
        if not status:
            return
        self.throttle = Throttle(
            available=float(status.get("currentlyAvailable", 0)),
            maximum=float(status.get("maximumAvailable", 0)) or None,
            restore_rate=float(status.get("restoreRate", 0)) or None,
            seen_at=time.monotonic(),
        )


def _json(response: OutsideResponse) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}


def _throttled(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    for error in body.get("errors") or []:
        if isinstance(error, dict) and (error.get("extensions") or {}).get("code") == "THROTTLED":
            return True
    return False


def _retry_after(response: OutsideResponse, body: Any, throttle: Throttle) -> float:
    header = response.headers.get("Retry-After")
    if header:
        try:
            return float(header)
        except ValueError:
            pass
    cost = ((body or {}).get("extensions") or {}).get("cost", {}) if isinstance(body, dict) else {}
    requested = cost.get("requestedQueryCost")
    if requested is not None:
        return throttle.wait_for(float(requested), time.monotonic()) or 1.0
    return 1.0


def _messages(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )
    return str(errors)[:300]


def user_errors(payload: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Return a mutation payload's ``userErrors`` (empty when it succeeded)."""
    return list((payload or {}).get("userErrors") or [])
