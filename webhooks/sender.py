"""Send one signed webhook request through the SSRF guard and report what happened."""

from __future__ import annotations

import time
from dataclasses import dataclass

import urllib3

from webhooks.ssrf import BlockedURL
from webhooks.ssrf import resolve

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
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_loopback: bool = False,
    timeout: float = TIMEOUT_SECONDS,
    ca_bundle: str | None = None,
) -> Outcome:
    """POST ``body`` to ``url``; never follow a redirect, never raise.

    The connection goes to the address the guard resolved, with the
    original host in the Host header and in TLS SNI and certificate checks.
    """
    started = time.monotonic()
    try:
        target = resolve(url, allow_loopback=allow_loopback)
    except BlockedURL as exc:
        return Outcome(None, _ms(started), error=f"refused by the SSRF guard: {exc}")
    pool = _pool(target.scheme, target.address, target.port, target.host, timeout, ca_bundle)
    request_headers = {
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        **headers,
    }
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=request_headers,
            redirect=False,
            retries=False,
            assert_same_host=False,
            preload_content=False,
        )
        try:
            snippet = response.read(SNIPPET_BYTES, decode_content=False)
        finally:
            response.release_conn()
            response.close()
    except urllib3.exceptions.HTTPError as exc:
        return Outcome(None, _ms(started), error=_describe(exc, timeout))
    finally:
        pool.close()
    return Outcome(
        status_code=response.status,
        duration_ms=_ms(started),
        snippet=snippet[:SNIPPET_BYTES].decode("utf-8", errors="replace"),
    )


def _pool(
    scheme: str, address: str, port: int, host: str, timeout: float, ca_bundle: str | None
) -> urllib3.HTTPConnectionPool:
    limits = urllib3.Timeout(connect=min(timeout, 10.0), read=timeout, total=timeout)
    if scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            port,
            timeout=limits,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_bundle,
            assert_hostname=host,
            server_hostname=host,
        )
    return urllib3.HTTPConnectionPool(address, port, timeout=limits, maxsize=1, retries=False)


def _describe(exc: Exception, timeout: float) -> str:
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return f"no answer within {timeout:g} s"
    reason = getattr(exc, "reason", None)
    return f"{type(exc).__name__}: {reason or exc}"[:500]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
