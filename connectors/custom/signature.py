"""Verify Standard Webhooks signatures on deliveries from a custom storefront.

Spec: standard-webhooks/standard-webhooks ``spec/standard-webhooks.md`` and its
reference Python verifier: ``webhook-signature`` holds space-separated
``v1,<base64 HMAC-SHA256>`` entries over ``"{webhook-id}.{webhook-timestamp}.{body}"``,
keyed with the base64 part of a ``whsec_`` secret; timestamps more than five
minutes from the receiver's clock are refused, which bounds replays.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Iterable
from collections.abc import Mapping

from hub import Unauthorized

TOLERANCE_SECONDS = 5 * 60
SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """Return the HMAC key of a ``whsec_`` secret (the base64 after the prefix)."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is 'whsec_' followed by base64") from None


def expected_signature(key: bytes, message_id: str, timestamp: str, body: bytes) -> bytes:
    content = f"{message_id}.{timestamp}.".encode() + body
    return hmac.digest(key, content, "sha256")  # one call into OpenSSL, no HMAC object


def verify(
    secrets: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
) -> bool:
    """Return True when one ``v1`` signature matches one of ``secrets``.

    Return False when a header is missing or no signature matches; raise
    ``Unauthorized`` for a timestamp outside the five-minute window.
    """
    message_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (message_id and timestamp and signatures):
        return False
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > TOLERANCE_SECONDS:
        raise Unauthorized(
            "webhook-timestamp is more than 5 minutes away from the hub's clock; "
            "sign each attempt with the current time and check the sender's clock",
            code="stale_timestamp",
        )
    presented = []
    for item in signatures.split():
        version, _, value = item.partition(",")
        if version != "v1":
            continue
        try:
            presented.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    matched = False
    for secret in secrets:
        expected = expected_signature(secret_key(secret), message_id, timestamp, body)
        for candidate in presented:
            # Keep comparing after a match: the time taken says nothing about which one matched.
            matched |= hmac.compare_digest(expected, candidate)
    return matched
