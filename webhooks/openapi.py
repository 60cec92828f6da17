"""Webhooks in the OpenAPI document: the hub's outbound events and the platforms' intake.

OpenAPI 3.0 (the document's version) describes requests the API makes to a URL
the caller gave as callbacks of the operation that took the URL: here
``POST /api/v1/webhook-endpoints``, whose body's ``url`` receives them. The
intake, where platforms post to the hub, is an interface of its own.
"""

from __future__ import annotations

from typing import Any

from hub import ApiInterface

SIGNATURE_HEADERS = (
    ("webhook-id", "The delivery's id, the same on every attempt: skip ids you processed."),
    ("webhook-timestamp", "Seconds since the epoch; refuse one more than 5 minutes off."),
    (
        "webhook-signature",
        "`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` under "
        "the base64-decoded part of your `whsec_` secret; several, space-separated, during "
        "a rotation (Standard Webhooks).",
    ),
)

EVENT_EXAMPLE = {
    "type": "order.received",
    "timestamp": "2026-11-01T03:16:00+00:00",
    "event_id": "9f0c2a1e-5b7d-4c3e-8f6a-1d2b3c4d5e6f",
    "data": {"order_id": 42, "member_id": 7, "total": "350000"},
}

EVENT_SCHEMA = {
    "type": "object",
    "required": ["type", "timestamp", "event_id", "data"],
    "properties": {
        "type": {"type": "string", "description": "the event's type, one you subscribed to"},
        "timestamp": {"type": "string", "format": "date-time"},
        "event_id": {"type": "string", "description": "unique per event"},
        "data": {"type": "object", "description": "the event's details (ids, amounts)"},
    },
}


def event_callbacks() -> dict[str, Any]:
    """The ``callbacks`` object of the endpoint registration: one signed POST per event."""
    return {
        "event": {
            "{$request.body#/url}": {
                "post": {
                    "summary": "An event the endpoint subscribed to, signed",
                    "description": "Answer any 2xx within 15 seconds; anything else, or no "
                    "answer, is retried with backoff (docs/webhooks.md).",
                    "parameters": [
                        {
                            "name": name,
                            "in": "header",
                            "required": True,
                            "description": about,
                            "schema": {"type": "string"},
                        }
                        for name, about in SIGNATURE_HEADERS
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": EVENT_SCHEMA, "example": EVENT_EXAMPLE}
                        },
                    },
                    "responses": {"2XX": {"description": "received; the hub does not retry"}},
                }
            }
        }
    }


def intake_interface() -> ApiInterface:
    """The webhook intake every store connector's platform posts to."""
    ok = {"received": True, "duplicate": False}
    return ApiInterface(
        tag="Webhook intake",
        description="Where store platforms deliver their webhooks, signed as each platform "
        "signs (docs/connectors/): Shopify `X-Shopify-Hmac-Sha256` and Haravan "
        "`X-Haravan-Hmacsha256` (base64 HMAC-SHA256 of the body under the app's secret), "
        "KiotViet `X-Hub-Signature`, a custom storefront the Standard Webhooks headers "
        "`webhook-id`, `webhook-timestamp`, `webhook-signature`. Nothing is stored "
        "unless the signature checks out; each delivery is stored once, then processed "
        "(docs/connector-contract.md).",
        paths={
            "/webhooks/{connector}/{connection_id}": {
                "post": {
                    "summary": "Take one signed delivery for one connection.",
                    "security": [],
                    "parameters": [
                        {
                            "name": "connector",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "example": "custom",
                        },
                        {
                            "name": "connection_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"type": "object"},
                                "example": {
                                    "type": "order.created",
                                    "timestamp": "2026-11-01T03:16:00Z",
                                    "data": {"external_id": "W-1001", "total": "350000"},
                                },
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "stored (or a duplicate of a stored delivery)",
                            "content": {"application/json": {"example": ok}},
                        },
                        "400": {"description": "`body_too_deep`: a signed body nested too deep"},
                        "401": {"description": "the signature is missing or wrong"},
                        "404": {"description": "no active connection of this connector"},
                        "413": {"description": "the body is larger than the hub accepts"},
                    },
                }
            }
        },
    )
