"""The SSRF guard of outbound webhooks: where a merchant's URL may make the hub connect.

Only http and https. The host is resolved once; if any address it resolves to
is loopback, private, link-local, unique-local, multicast, reserved,
unspecified or a cloud metadata address, the URL is refused. The request then
goes to that resolved address (the Host header and TLS SNI still name the
original host), so a DNS answer that changes between the check and the
connect (DNS rebinding) cannot redirect it. Redirects are never followed.
See the OWASP SSRF Prevention Cheat Sheet and Standard Webhooks' advice on
SSRF for the reasoning.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud instance metadata services (AWS, GCP and Azure share the first; AWS's IPv6
#: one; Alibaba; AWS ECS task metadata).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedURL(ValueError):
    """The URL may not be called: bad scheme, no host, or a refused address."""


@dataclass(frozen=True)
class Target:
    """Where one request goes: the URL's parts and the one address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def refusal(ip: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Return why the hub must not connect to ``ip``, or None when it may."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or (ip.sixtofour) or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(embedded, allow_loopback=allow_loopback)
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    )
    for attribute, reason in checks:
        if getattr(ip, attribute):
            return reason
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("fc00::/7"):
        return "a unique-local address"
    if not ip.is_global:
        return "an address that is not publicly routable"
    return None


def parse_url(url: str) -> tuple[str, str, int, str]:
    """Return scheme, host, port and path-with-query of an http(s) URL, or raise BlockedURL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedURL(f"{url!r} is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BlockedURL(f"only http and https URLs are allowed, not {scheme or 'none'!r}")
    if not parts.hostname:
        raise BlockedURL(f"{url!r} has no host")
    if parts.username or parts.password:
        raise BlockedURL("URLs with a user name or password are not allowed")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def check_literal(url: str, *, allow_loopback: bool = False) -> None:
    """Refuse a URL whose host is a blocked IP literal or ``localhost`` (no DNS lookup).

    Used when a merchant saves an endpoint; names are resolved at delivery.
    """
    _scheme, host, _port, _path = parse_url(url)
    if host.rstrip(".").lower() in ("localhost", "localhost.localdomain") or host.endswith(
        ".localhost"
    ):
        if not allow_loopback:
            raise BlockedURL(f"{host} is a loopback address")
        return
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return
    reason = refusal(ip, allow_loopback=allow_loopback)
    if reason:
        raise BlockedURL(f"{host} is {reason}")


def resolve(url: str, *, allow_loopback: bool = False) -> Target:
    """Resolve the URL's host once and return the target to connect to, or raise BlockedURL.

    Every address the name resolves to must be allowed: a name that answers
    with one public and one private address is refused.
    """
    scheme, host, port, path = parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedURL(f"cannot resolve {host}: {exc}") from None
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        reason = refusal(ip, allow_loopback=allow_loopback)
        if reason:
            raise BlockedURL(f"{host} resolves to {ip}, {reason}")
        addresses.append(str(ip))
    if not addresses:
        raise BlockedURL(f"{host} resolves to no address")
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
