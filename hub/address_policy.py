"""Where an outside call may make the hub connect: the SSRF address policy.

Only http and https. A URL's host is resolved once; if any address it
resolves to is loopback, private, link-local, unique-local, multicast,
reserved, unspecified or a cloud metadata address, the URL is refused.
IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``,
6to4, Teredo and NAT64 ``64:ff9b::/96``) are judged by that IPv4 address.
The caller then connects to the resolved address (the Host header and TLS
SNI still name the original host), so a DNS answer that changes between the
check and the connect (DNS rebinding) cannot point it elsewhere. See the
OWASP SSRF Prevention Cheat Sheet for the reasoning.

An operator may let loopback and private addresses through (simulators, a
development box): ``HUB_ALLOW_PRIVATE_TARGETS``. Metadata, link-local,
unspecified, multicast and reserved addresses are refused whatever the
settings say.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from hub.errors import PermanentError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Turns a host name and port into the addresses to connect to (``socket.getaddrinfo`` by default).
Resolver = Callable[[str, int], Iterable[str]]

#: Cloud instance metadata services (AWS, GCP and Azure share the first; AWS's IPv6
#: one; Alibaba; AWS ECS task metadata).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: What ``HUB_ALLOW_PRIVATE_TARGETS`` opens: RFC 1918, shared address space (RFC 6598)
#: and IPv6 unique-local addresses; nothing else that ``is_private`` would count.
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_LOCAL_NAMES = ("localhost", "localhost.localdomain")


class BlockedURL(PermanentError, ValueError):
    """The URL may not be called: bad scheme, no host, or a refused address.

    A permanent failure: retrying the same URL is refused the same way.
    """


@dataclass(frozen=True)
class AddressPolicy:
    """Which inside addresses an operator lets through; the default lets none."""

    allow_loopback: bool = False
    allow_private: bool = False

    def refusal(self, ip: IPAddress) -> str | None:
        """Return why the hub must not connect to ``ip``, or None when it may."""
        if isinstance(ip, ipaddress.IPv6Address):
            embedded = _embedded_ipv4(ip)
            if embedded is not None:
                return self.refusal(embedded)
        if ip in METADATA_ADDRESSES:
            return "a cloud metadata address"
        if ip.is_loopback:
            return None if self.allow_loopback or self.allow_private else "a loopback address"
        checks = (
            ("is_unspecified", "an unspecified address"),
            ("is_link_local", "a link-local address"),
            ("is_multicast", "a multicast address"),
        )
        for attribute, reason in checks:
            if getattr(ip, attribute):
                return reason
        if _is_private(ip):
            return None if self.allow_private else "a private address"
        if ip.is_reserved:
            return "a reserved address"
        if not ip.is_global:
            return "an address that is not publicly routable"
        return None


#: No inside address at all: merchants' URLs, and every redirect hop.
STRICT = AddressPolicy()


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
    if embedded is None and ip in _NAT64:
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return embedded


def _is_private(ip: IPAddress) -> bool:
    return any(ip.version == net.version and ip in net for net in _PRIVATE_NETWORKS)


def refusal(
    ip: IPAddress, *, allow_loopback: bool = False, allow_private: bool = False
) -> str | None:
    """Return why the hub must not connect to ``ip``, or None when it may."""
    return AddressPolicy(allow_loopback, allow_private).refusal(ip)


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


def check_literal(url: str, policy: AddressPolicy = STRICT) -> None:
    """Refuse a URL whose host is a refused IP literal or ``localhost`` (no DNS lookup).

    For checking a URL when it is saved; names are resolved when it is called.
    """
    _scheme, host, _port, _path = parse_url(url)
    name = host.rstrip(".").lower()
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        if policy.refusal(ipaddress.ip_address("127.0.0.1")):
            raise BlockedURL(f"{host} is a loopback address")
        return
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return
    reason = policy.refusal(ip)
    if reason:
        raise BlockedURL(f"{host} is {reason}")


def system_resolver(host: str, port: int) -> list[str]:
    """Return every address ``host`` resolves to, through the system's resolver."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [sockaddr[0] for _family, _type, _proto, _name, sockaddr in infos]


def resolve(url: str, policy: AddressPolicy = STRICT, resolver: Resolver | None = None) -> Target:
    """Resolve the URL's host once and return the target to connect to, or raise BlockedURL.

    Every address the name resolves to must be allowed: a name that answers
    with one public and one private address is refused.
    """
    scheme, host, port, path = parse_url(url)
    try:
        answers = list((resolver or system_resolver)(host, port))
    except (OSError, UnicodeError) as exc:
        raise BlockedURL(f"cannot resolve {host}: {exc}") from None
    addresses = []
    for answer in answers:
        try:
            ip = ipaddress.ip_address(str(answer).split("%", 1)[0])
        except ValueError:
            raise BlockedURL(f"{host} resolves to {answer!r}, not an address") from None
        reason = policy.refusal(ip)
        if reason:
            raise BlockedURL(f"{host} resolves to {ip}, {reason}")
        addresses.append(str(ip))
    if not addresses:
        raise BlockedURL(f"{host} resolves to no address")
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
