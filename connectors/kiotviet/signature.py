"""Check KiotViet's ``X-Hub-Signature`` on a notification, and pin the variant that works.

KiotViet does not document how it signs webhooks (the Public API guide v1.4
predates the ``Secret`` field of a registration). Integrations in the wild
disagree, so the hub accepts the variants seen there and, once a delivery of
a connection verifies with one of them, accepts only that one for the
connection from then on (stored as its ``signature_variant`` setting):

* the HMAC is SHA-256 (an n8n node, hex over the raw body) or SHA-1 (a
  GitHub-style ``sha1=<hex>`` checker);
* its key is the secret as the merchant gave it, or the base64 text of it
  that the registration sends KiotViet as ``Secret``;
* the header is ``sha256=<hex>``, ``sha1=<hex>`` or the bare hex digest.

Every comparison is constant-time, and every candidate is compared, so the
time taken says nothing about which variant matched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

HEADER = "X-Hub-Signature"
ALGORITHMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}
KEYS = ("secret", "base64")
#: Every variant, in the order they are tried: ``<algorithm>:<key>``.
VARIANTS = tuple(f"{algorithm}:{key}" for algorithm in ALGORITHMS for key in KEYS)


def registered_secret(secret: str) -> str:
    """The ``Secret`` a webhook registration sends KiotViet: the secret, base64-encoded."""
    return base64.b64encode(secret.encode()).decode()


def _key(secret: str, kind: str) -> bytes:
    return registered_secret(secret).encode() if kind == "base64" else secret.encode()


def sign(secret: str, body: bytes, variant: str = "sha256:secret", *, prefix: bool = True) -> str:
    """Return the header value a sender using ``variant`` puts on ``body``."""
    algorithm, kind = variant.split(":")
    digest = hmac.new(_key(secret, kind), body, ALGORITHMS[algorithm]).hexdigest()
    return f"{algorithm}={digest}" if prefix else digest


def _presented(value: str) -> tuple[str | None, bytes] | None:
    """Split a header into (algorithm named by its prefix or None, digest bytes)."""
    value = value.strip()
    algorithm, sep, digest = value.partition("=")
    if not sep:
        algorithm, digest = None, value
    elif algorithm.lower() not in ALGORITHMS:
        return None
    else:
        algorithm = algorithm.lower()
    try:
        return algorithm, bytes.fromhex(digest.strip())
    except ValueError:
        return None


def matching_variant(
    secret: str, headers: Mapping[str, str], body: bytes, *, allowed: tuple[str, ...] = VARIANTS
) -> str | None:
    """Return the variant among ``allowed`` whose signature is on ``body``, or None."""
    header = headers.get(HEADER)
    if not secret or not header:
        return None
    presented = _presented(header)
    if presented is None:
        return None
    named, digest = presented
    found = None
    for variant in allowed:
        algorithm, kind = variant.split(":")
        if named is not None and named != algorithm:
            continue
        expected = hmac.new(_key(secret, kind), body, ALGORITHMS[algorithm]).digest()
        if hmac.compare_digest(expected, digest) and found is None:
            found = variant
    return found
