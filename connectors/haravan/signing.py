"""Haravan's webhook signatures.

``X-Haravan-Hmacsha256`` is the base64 HMAC-SHA256 of the raw body: the doc's
example header is 44 base64 characters (32 bytes, a SHA-256 digest) and the
``haravan-validate`` middleware computes exactly that [V-inferred from the
private-webhook doc, C for the middleware]. The key is the app's client secret
for app webhooks [C] and the shop's "webhook authentication string" for
private webhooks [V]. Older sample apps sign with hex HMAC-SHA1 under the same
header [C]: accepted only for connections with the ``legacy_hmac_sha1`` setting.
Some code reads ``X-Haravan-Hmac-Sha256`` or ``X-Haravan-Hmac``: all three
spellings are accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from collections.abc import Mapping

HEADERS = ("X-Haravan-Hmacsha256", "X-Haravan-Hmac-Sha256", "X-Haravan-Hmac")


def body_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def legacy_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def presented(headers: Mapping[str, str]) -> str:
    for name in HEADERS:
        value = headers.get(name)
        if value:
            return value.strip()
    return ""


def verify(
    secrets: Iterable[str], headers: Mapping[str, str], body: bytes, *, legacy: bool = False
) -> bool:
    """Say whether the delivery's signature matches one of ``secrets`` (constant time)."""
    given = presented(headers).encode()
    if not given or not body:
        return False
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(body_hmac(secret, body).encode(), given)
        if legacy:
            matched |= hmac.compare_digest(legacy_hmac(secret, body).encode(), given.lower())
    return matched
