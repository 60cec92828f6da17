"""One HTTP client for every call the hub and its plugins make to the outside.

Every request goes through the address policy (``hub.address_policy``): the
host is resolved once, refused when it points inside, and the connection is
pinned to the address that passed (Host header and TLS SNI keep the name).
Redirects are not followed unless a caller asks, and then each hop is checked
against the strict policy, which lets no inside address through whatever the
operator allowed for the first hop. Every call has connect and read timeouts
and a cap on the size of the answer.

Failures are classified once: no answer (timeout, refused connection, TLS
failure) raises ``OutsideUnreachable``, a ``RetryLater``; a refused URL raises
``BlockedURL`` and an answer over the cap ``AnswerTooLarge``, both
``PermanentError``. ``raise_for_status`` turns 429 and 5xx into
``RetryLater`` and other non-2xx answers into ``PermanentError``.
"""

from __future__ import annotations

import base64
import codecs
import json as jsonlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import urllib3

from hub.address_policy import STRICT
from hub.address_policy import AddressPolicy
from hub.address_policy import Resolver
from hub.address_policy import Target
from hub.address_policy import resolve
from hub.errors import PermanentError
from hub.errors import RetryLater

if TYPE_CHECKING:
    from hub.core import Hub

#: (connect, read) seconds, when a caller gives none.
DEFAULT_TIMEOUT = (5.0, 30.0)
#: The largest answer read, when a caller gives no cap.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
USER_AGENT = "StorefrontHub/1"
REDIRECTS = (301, 302, 303, 307, 308)

Timeout = float | tuple[float, float]


class OutsideUnreachable(RetryLater):
    """No answer came: a timeout, a refused or reset connection, or a TLS failure."""


class AnswerTooLarge(PermanentError):
    """The answer was larger than the caller's cap; it was not read to the end."""


@dataclass(frozen=True)
class OutsideResponse:
    """An answer read whole: status, headers (case-insensitive) and body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    url: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode(_charset(self.headers), errors="replace")

    def json(self) -> Any:
        """Return the body parsed as JSON; raise ValueError when it is not JSON."""
        return jsonlib.loads(self.content)


def transient_status(status_code: int) -> bool:
    """Tell whether an answer with this status is worth retrying later (429 and 5xx)."""
    return status_code == 429 or status_code >= 500


def raise_for_status(response: OutsideResponse, who: str) -> OutsideResponse:
    """Return a 2xx answer; raise RetryLater for 429 and 5xx, PermanentError otherwise."""
    if response.ok:
        return response
    message = f"{who} answered HTTP {response.status_code}: {response.text[:300]}"
    if transient_status(response.status_code):
        raise RetryLater(message)
    raise PermanentError(message)


class OutsideHTTP:
    """Makes outside calls under one address policy; see the module docstring."""

    def __init__(
        self,
        policy: AddressPolicy = STRICT,
        *,
        resolver: Resolver | None = None,
        ca_bundle: str | None = None,
        max_bytes: int = MAX_ANSWER_BYTES,
        user_agent: str = USER_AGENT,
        redirect_policy: AddressPolicy = STRICT,
    ) -> None:
        self.policy = policy
        self.redirect_policy = redirect_policy
        self.resolver = resolver
        self.ca_bundle = ca_bundle
        self.max_bytes = max_bytes
        self.user_agent = user_agent

    def get(self, url: str, **options: Any) -> OutsideResponse:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> OutsideResponse:
        return self.request("POST", url, **options)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        max_bytes: int | None = None,
        truncate: bool = False,
        max_redirects: int = 0,
    ) -> OutsideResponse:
        """Make one request and read its answer; see the module docstring for what raises.

        ``data`` as a mapping is sent as a form, as bytes or text as it is;
        ``json`` is sent as JSON. An answer over ``max_bytes`` raises
        AnswerTooLarge, or with ``truncate`` keeps its first ``max_bytes``.
        A redirect is returned as it came unless ``max_redirects`` allows
        following it.
        """
        url = _with_params(url, params)
        body, content_type = _body(json, data)
        sent = {"User-Agent": self.user_agent, "Accept-Encoding": "identity"}
        if content_type:
            sent["Content-Type"] = content_type
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            sent["Authorization"] = f"Basic {token}"
        sent.update(headers or {})
        policy = self.policy
        hops = 0
        while True:
            target = resolve(url, policy, self.resolver)
            limit = (self.max_bytes if max_bytes is None else max_bytes, truncate)
            response = self._send(target, url, method, body, sent, timeout, limit)
            location = response.headers.get("Location")
            if response.status_code not in REDIRECTS or not location or hops >= max_redirects:
                return response
            hops += 1
            url = urljoin(url, location)
            # Every hop after the first is a URL the far end chose: no inside address at all.
            policy = self.redirect_policy
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                method, body = "GET", None
                sent.pop("Content-Type", None)
            if urlsplit(url).hostname != target.host:
                # Credentials and the caller's headers are for the first host only.
                kept = {k: v for k, v in sent.items() if k in ("Content-Type",)}
                sent = {"User-Agent": self.user_agent, "Accept-Encoding": "identity", **kept}

    def _send(
        self,
        target: Target,
        url: str,
        method: str,
        body: bytes | None,
        headers: dict[str, str],
        timeout: Timeout,
        limit: tuple[int, bool],
    ) -> OutsideResponse:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        pool = _pool(target, urllib3.Timeout(connect=connect, read=read), self.ca_bundle)
        try:
            answer = pool.urlopen(
                method,
                target.path,
                body=body,
                headers={**headers, "Host": target.host_header},
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
            )
            try:
                content = _read(answer, limit, read, target.host)
            finally:
                answer.release_conn()
                answer.close()
        except urllib3.exceptions.HTTPError as exc:
            raise OutsideUnreachable(_describe(exc, target.host, connect, read)) from None
        finally:
            pool.close()
        return OutsideResponse(
            status_code=answer.status, headers=answer.headers, content=content, url=url
        )


def outside_http(hub: Hub, *, allow_loopback: bool = False, **options: Any) -> OutsideHTTP:
    """Return the client for the hub's settings: inside addresses only if the operator allows.

    ``HUB_ALLOW_PRIVATE_TARGETS`` lets loopback and private addresses through
    (simulators, development); ``allow_loopback`` lets a caller add loopback
    alone under a setting of its own.
    """
    allow_private = bool(hub.config.get("HUB_ALLOW_PRIVATE_TARGETS"))
    policy = AddressPolicy(allow_loopback=allow_loopback, allow_private=allow_private)
    return OutsideHTTP(policy, **options)


def check_outside_host(hub: Hub, host: str, port: int) -> None:
    """Refuse a host a merchant typed (an SMTP server) that resolves inside; BlockedURL.

    For protocols other than HTTP, checked right before connecting, under the
    same policy as ``outside_http``: ``HUB_ALLOW_PRIVATE_TARGETS`` lets
    loopback and private addresses through, nothing else does.
    """
    allow_private = bool(hub.config.get("HUB_ALLOW_PRIVATE_TARGETS"))
    literal = f"[{host}]" if ":" in host else host
    resolve(f"https://{literal}:{int(port)}/", AddressPolicy(allow_private=allow_private))


def _with_params(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in params.items() if v is not None], doseq=True)
    joined = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit(parts._replace(query=joined))


def _body(json: Any, data: Mapping[str, Any] | bytes | str | None) -> tuple[bytes | None, str]:
    if json is not None:
        return jsonlib.dumps(json, separators=(",", ":")).encode(), "application/json"
    if isinstance(data, Mapping):
        return urlencode(data, doseq=True).encode(), "application/x-www-form-urlencoded"
    if isinstance(data, str):
        return data.encode(), ""
    return data, ""


def _pool(
    target: Target, limits: urllib3.Timeout, ca_bundle: str | None
) -> urllib3.HTTPConnectionPool:
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=limits,
            maxsize=1,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_bundle,
            assert_hostname=target.host,
            server_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(
        target.address, target.port, timeout=limits, maxsize=1, retries=False
    )


def _read(answer: urllib3.BaseHTTPResponse, cap: tuple[int, bool], read: float, host: str) -> bytes:
    """Read the body; one over the cap is refused, or cut, without being read whole."""
    limit, truncate = cap
    declared = answer.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit and not truncate:
        raise AnswerTooLarge(f"{host} answered {declared} bytes, over the {limit} byte cap")
    started = time.monotonic()
    chunks: list[bytes] = []
    size = 0
    for chunk in answer.stream(64 * 1024, decode_content=True):
        size += len(chunk)
        if size > limit and truncate:
            chunks.append(chunk[: limit - size])
            break
        if size > limit:
            raise AnswerTooLarge(f"{host} answered more than the {limit} byte cap")
        chunks.append(chunk)
        if time.monotonic() - started > read * 4:
            raise OutsideUnreachable(f"{host} took over {read * 4:g} s to send its answer")
    return b"".join(chunks)


def _describe(exc: Exception, host: str, connect: float, read: float) -> str:
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return f"{host} did not accept a connection within {connect:g} s"
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return f"{host} sent no answer within {read:g} s"
    reason = getattr(exc, "reason", None)
    return f"{host}: {type(exc).__name__}: {reason or exc}"[:500]


def _charset(headers: Mapping[str, str]) -> str:
    content_type = headers.get("Content-Type", "")
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            try:
                return codecs.lookup(value.strip('"')).name
            except LookupError:
                return "utf-8"
    return "utf-8"
