"""Calls to Haravan's REST APIs, within the shop's leaky bucket.

Haravan meters API calls per shop with a leaky bucket of 80 calls draining
4 a second; every answer reports the level in ``X-Haravan-Api-Call-Limit:
32/80`` and a call over the limit answers 429 with ``Retry-After: 2.0``
(docs.haravan.com "API call limit") [V-copy]. The client slows down as the
bucket fills, honours ``Retry-After`` a few times, then gives up with
``RetryLater``. 401/403 mean the token was revoked (the app was uninstalled)
and other 4xx are permanent; timeouts, connection errors and 5xx are transient.
The token goes in ``Authorization: Bearer`` [C: every client we read does so].
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from hub import OutsideHTTP
from hub import OutsideResponse
from hub import OutsideUnreachable
from hub import PermanentError
from hub import RetryLater

TIMEOUT = (5, 30)
MAX_WAIT_SECONDS = 30.0
LEAK_PER_SECOND = 4.0
#: Keep this many calls of room in the bucket for the store's other apps.
HEADROOM = 4


class TokenRefused(PermanentError):
    """Haravan refused the access token: the app was uninstalled or the token revoked."""


class HaravanApi:
    """A client for one shop's commerce (``/com``) and storefront (``/web``) APIs."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        http: OutsideHTTP | None = None,
        sleep: Callable[[float], None] | None = None,
        max_wait: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = http or OutsideHTTP()
        self.sleep = sleep or time.sleep
        self.max_wait = max_wait
        self.level: tuple[int, int] | None = None
        self.waited = 0.0

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.call("POST", path, json=body)

    def put(self, path: str, body: Any = None) -> Any:
        return self.call("PUT", path, json=body)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Make one call (waiting for the bucket); return the JSON answer."""
        url = self._url(path)
        waited = 0.0
        while True:
            self._pace()
            try:
                response = self.http.request(
                    method,
                    url,
                    headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                    timeout=TIMEOUT,
                    **kwargs,
                )
            except OutsideUnreachable as exc:
                raise RetryLater(f"Haravan did not answer: {exc}") from exc
            self._note(response)
            if response.status_code == 429:
                pause = _retry_after(response)
                if waited + pause > self.max_wait:
                    raise RetryLater("Haravan's call limit is still full; retrying later")
                self.sleep(pause)
                waited += pause
                self.waited += pause
                continue
            return _answer(response)

    def _url(self, path: str) -> str:
        """Return the URL of ``path``; an absolute URL must be on this client's own host."""
        if not path.startswith(("http://", "https://")):
            return f"{self.base_url}{path}"
        ours, theirs = urlsplit(self.base_url), urlsplit(path)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise PermanentError(f"Haravan pointed at {theirs.netloc!r}, not its own API host")
        return path

    def _pace(self) -> None:
        if self.level is None:
            return
        used, size = self.level
        over = used - (size - HEADROOM)
        if over > 0:
            pause = over / LEAK_PER_SECOND
            self.sleep(pause)
            self.waited += pause
            self.level = (used - int(over), size)

    def _note(self, response: OutsideResponse) -> None:
        header = response.headers.get("X-Haravan-Api-Call-Limit") or ""
        used, _, size = header.partition("/")
        try:
            self.level = (int(used), int(size))
        except ValueError:
            self.level = None


def _retry_after(response: OutsideResponse) -> float:
    try:
        return max(float(response.headers.get("Retry-After") or 2.0), 0.1)
    except ValueError:
        return 2.0


def _answer(response: OutsideResponse) -> Any:
    if response.status_code in (401, 403):
        raise TokenRefused(
            f"Haravan refused the access token ({response.status_code}); reinstall the app"
        )
    if response.status_code >= 500:
        raise RetryLater(f"Haravan answered {response.status_code}")
    if response.status_code >= 400:
        raise PermanentError(f"Haravan answered {response.status_code}: {response.text[:300]}")
    try:
        return response.json() if response.content else {}
    except ValueError:
        raise PermanentError(
            f"Haravan answered something that is not JSON: {response.text[:200]}"
        ) from None
