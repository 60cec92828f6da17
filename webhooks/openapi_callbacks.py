"""The webhooks the hub sends a registered endpoint, as OpenAPI callbacks of its registration.

OpenAPI 3.0 (the document's version) describes requests the API makes to a URL
the caller gave as callbacks of the operation that took the URL: here
``POST /api/v1/webhook-endpoints``, whose body's ``url`` receives them.
"""

from __future__ import annotations

from typing import Any

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
