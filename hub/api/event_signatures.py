"""Signed events: ``POST /api/v1/events`` without the API key, signed the Standard Webhooks way.

A storefront server or a review app holds one of the merchant's events signing
secrets (``hub.merchants.event_secrets``), never the API key. It sends:

* ``hub-merchant``: the merchant's id;
* ``webhook-id``: the event's id, which is also its idempotency key;
* ``webhook-timestamp``: Unix seconds, within five minutes of the hub's clock;
* ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``,
  several separated by spaces while secrets rotate (one matching is enough).

See https://www.standardwebhooks.com/ for the scheme.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

from flask import Request

from hub.core import Hub
from hub.db import utcnow
from hub.merchants.event_secrets import signing_keys

EVENTS_PATH = "/api/v1/events"
MERCHANT_HEADER = "hub-merchant"
SIGNED_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
TOLERANCE = timedelta(minutes=5)


class SignatureRefused(Exception):
    """The request's signature is missing, wrong or too old; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def is_signed_event(request: Request) -> bool:
    """The request posts an event and names a merchant or signs, without an API key."""
    return (
        request.path == EVENTS_PATH
        and request.method == "POST"
        and not request.headers.get("Authorization")
        and any(request.headers.get(name) for name in (MERCHANT_HEADER, *SIGNED_HEADERS))
    )


def signed_merchant(hub: Hub, request: Request) -> int:
    """The merchant whose secret signed the request.

    :raise SignatureRefused: ``signature_missing``, ``signature_expired`` or
        ``signature_invalid`` (a wrong signature, an unknown merchant or one
        without a secret: the same answer, so nothing is learnt by guessing).
    """
    missing = [name for name in (MERCHANT_HEADER, *SIGNED_HEADERS) if not request.headers.get(name)]
    if missing:
        raise SignatureRefused(
            "signature_missing",
            f"send the headers {', '.join(missing)}, or the API key as 'Authorization: Bearer'",
        )
    event_id = request.headers["webhook-id"].strip()
    timestamp = request.headers["webhook-timestamp"].strip()
    merchant = request.headers[MERCHANT_HEADER].strip()
    if not (timestamp.isdigit() and merchant.isdigit()) or len(event_id) > 255:
        raise SignatureRefused(
            "signature_invalid",
            "webhook-timestamp and hub-merchant are whole numbers; webhook-id 255 characters "
            "at most",
        )
    now = utcnow()
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE.total_seconds():
        raise SignatureRefused(
            "signature_expired",
            "webhook-timestamp is more than 5 minutes from the hub's clock: sign the request "
            "when sending it, and check the sender's clock",
        )
    signed = f"{event_id}.{timestamp}.".encode() + request.get_data(cache=True)
    with hub.db.session() as session:
        keys = signing_keys(hub, session, int(merchant), now)
    expected = [
        base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode() for key in keys
    ]
    presented = [
        part[3:] for part in request.headers["webhook-signature"].split() if part.startswith("v1,")
    ]
    if any(hmac.compare_digest(p, e) for p in presented for e in expected):
        return int(merchant)
    raise SignatureRefused(
        "signature_invalid",
        "the signature does not match the body with any events signing secret in force for "
        "this merchant: sign 'webhook-id.webhook-timestamp.body' with the secret shown once "
        "in the console",
    )
