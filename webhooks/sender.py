"""Send one signed webhook request through the hub's outside client and report what happened."""

from __future__ import annotations

import time
from dataclasses import dataclass

from hub import BlockedURL
from hub import OutsideHTTP
from hub import PermanentError
from hub import RetryLater

#: Standard Webhooks and Svix: an attempt that takes longer than this has failed.
TIMEOUT_SECONDS = 15.0
#: How much of an answer's body is kept for the merchant to read.
SNIPPET_BYTES = 1024
USER_AGENT = "StorefrontHub-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status code, or an error when there was no answer."""

    status_code: int | None
    duration_ms: int
    snippet: str = ""
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(
    client: OutsideHTTP,
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float = TIMEOUT_SECONDS,
) -> Outcome:
    """POST ``body`` to ``url``; never follow a redirect, never raise.

    The client connects to the address its policy resolved and passed, with
    the original host in the Host header and in TLS SNI and certificate checks.
    """
    started = time.monotonic()
    try:
        response = client.post(
            url,
            data=body,
            headers={"User-Agent": USER_AGENT, "Content-Type": "application/json", **headers},
            timeout=(min(timeout, 10.0), timeout),
            max_bytes=SNIPPET_BYTES,
            truncate=True,
        )
    except BlockedURL as exc:
        return Outcome(None, _ms(started), error=f"refused by the SSRF guard: {exc}")
    except (RetryLater, PermanentError) as exc:
        return Outcome(None, _ms(started), error=str(exc)[:500])
    return Outcome(
        status_code=response.status_code,
        duration_ms=_ms(started),
        snippet=response.content.decode("utf-8", errors="replace"),
    )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
