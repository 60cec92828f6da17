"""Shopify's signatures: webhook bodies, OAuth query strings and app proxy requests.

- Webhooks: ``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the raw
  body keyed with the app's client secret (shopify-api-js
  ``validateHmacFromRequestFactory``; shopify.dev "Verify webhook deliveries").
- OAuth redirects: ``hmac`` is the hex HMAC-SHA256 of every other query
  parameter (``signature`` left out too), sorted by key and joined as
  ``k=v&k=v`` (shopify-api-js ``lib/utils/hmac-validator.ts``; checked against
  the published vector in the tests).
- App proxy: ``signature`` is the hex HMAC-SHA256 of the other parameters
  sorted, each ``k=v`` with repeated values joined by ``,``, concatenated with
  no separator (shopify.dev "Authenticate app proxies").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable
from collections.abc import Mapping

from connectors.shopify import store

#: shopify_python_api refuses OAuth redirects older than a day; so do we.
OAUTH_MAX_AGE = 24 * 3600
#: App proxy requests are made as the visitor browses: five minutes of clock skew is plenty.
PROXY_MAX_AGE = 300


def valid_shop(shop: str | None) -> bool:
    """Say whether ``shop``, in any case and with a trailing slash, is a store domain."""
    return bool(shop) and store.valid_shop(shop.strip().lower().rstrip("/"))


def body_hmac(secret: str, body: bytes) -> str:
    """Return the ``X-Shopify-Hmac-Sha256`` value of ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_body(secrets: Iterable[str], body: bytes, header: str | None) -> bool:
    """Say whether ``header`` is the body's HMAC under one of ``secrets`` (constant time)."""
    if not header or not body:
        return False
    presented = header.strip().encode()
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(body_hmac(secret, body).encode(), presented)
    return matched


def _items(params: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    if hasattr(params, "items") and not hasattr(params, "getlist"):
        return [(k, str(v)) for k, v in params.items()]
    if hasattr(params, "getlist"):
        return [(k, v) for k in params for v in params.getlist(k)]
    return [(k, str(v)) for k, v in params]


def query_hmac(secret: str, params: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """Return the ``hmac`` Shopify puts on an OAuth redirect with these parameters."""
    pairs = sorted((k, v) for k, v in _items(params) if k not in ("hmac", "signature"))
    message = "&".join(f"{k}={v}" for k, v in pairs)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_query(
    secrets: Iterable[str], params: Mapping[str, str], *, now: float | None = None
) -> bool:
    """Check an OAuth redirect's ``hmac``, its ``shop`` domain and its ``timestamp``."""
    given = params.get("hmac") or ""
    if not valid_shop(params.get("shop")):
        return False
    try:
        timestamp = int(params.get("timestamp") or "")
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > OAUTH_MAX_AGE:
        return False
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(query_hmac(secret, params).encode(), given.encode())
    return matched


def proxy_signature(secret: str, params) -> str:
    """Return the ``signature`` Shopify's app proxy adds to a forwarded request."""
    values: dict[str, list[str]] = {}
    for key, value in _items(params):
        if key != "signature":
            values.setdefault(key, []).append(value)
    message = "".join(f"{k}={','.join(v)}" for k, v in sorted(values.items()))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_proxy(secrets: Iterable[str], params, *, now: float | None = None) -> bool:
    """Check an app proxy request's ``signature`` and that its ``timestamp`` is fresh."""
    given = params.get("signature") or ""
    try:
        timestamp = int(params.get("timestamp") or "")
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > PROXY_MAX_AGE:
        return False
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(proxy_signature(secret, params).encode(), given.encode())
    return matched
