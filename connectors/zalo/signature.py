"""``X-ZEvent-Signature`` on Zalo's webhook calls.

Per Zalo's ZBS docs (webhook for messages sent by phone number): the header
is ``mac=<hex>``, where the hex is a plain SHA-256 (not an HMAC) of the app
id, the raw body, the body's ``timestamp`` and the OA secret key, joined
without separators.
"""

from __future__ import annotations

import hashlib
import hmac
import json


def mac(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    data = app_id.encode() + body + str(timestamp).encode() + oa_secret_key.encode()
    return hashlib.sha256(data).hexdigest()


def header(app_id: str, body: bytes, oa_secret_key: str) -> str:
    """The header value Zalo would send for ``body`` (for simulators and tests)."""
    timestamp = json.loads(body).get("timestamp", "")
    return "mac=" + mac(app_id, body, timestamp, oa_secret_key)


def verify(app_id: str, oa_secret_key: str, body: bytes, presented: str) -> bool:
    """Say whether ``presented`` is Zalo's signature of ``body`` (constant-time compare)."""
    if not app_id or not oa_secret_key or not presented:
        return False
    try:
        event = json.loads(body)
    except ValueError:
        return False
    if not isinstance(event, dict):
        return False
    expected = mac(app_id, body, event.get("timestamp", ""), oa_secret_key)
    given = presented.removeprefix("mac=").strip()
    return hmac.compare_digest(expected, given)
