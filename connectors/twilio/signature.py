"""``X-Twilio-Signature``: base64 HMAC-SHA1 of the URL and the sorted POST parameters.

As twilio/twilio-python's ``request_validator.py`` computes it: the full
URL (query string included), then each parameter name followed by its
value, names sorted, every value of a repeated name included, sorted. The
URL is tried with and without the default port, since Twilio is not
consistent about including it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit
from urllib.parse import urlunsplit


def compute(auth_token: str, url: str, params: Mapping[str, Any]) -> str:
    """Return the signature Twilio sends for a POST of ``params`` to ``url``."""
    payload = url
    for name in sorted(params):
        for value in sorted(_values(params, name)):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _values(params: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(name)]
    value = params[name]
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def url_variants(url: str) -> list[str]:
    """The URL as given, with its default port added, and with it removed."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url]
    if default and parts.port is None:
        variants.append(urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}")))
    if parts.port is not None and parts.port == default:
        host = parts.netloc.rsplit(":", 1)[0]
        variants.append(urlunsplit(parts._replace(netloc=host)))
    return variants


def verify(auth_token: str, urls: Iterable[str], params: Mapping[str, Any], signature: str) -> bool:
    """Say whether ``signature`` is Twilio's for any of ``urls`` (compared in constant time)."""
    if not signature or not auth_token:
        return False
    for url in urls:
        for variant in url_variants(url):
            if hmac.compare_digest(compute(auth_token, variant, params), signature):
                return True
    return False
