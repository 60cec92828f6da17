"""Webhooks in the OpenAPI document: the hub's outbound events and the platforms' intake.

The events the hub sends are described twice over, as OpenAPI 3.1 allows:
as the document's top-level ``webhooks``, one per event type with the schema
and an example of its ``data`` (``webhooks.event_payloads``), and as the
callback of ``POST /api/v1/webhook-endpoints``, whose body's ``url`` receives
them. The intake, where platforms post to the hub, is an interface of its own.
"""

from __future__ import annotations

from typing import Any

from hub import ApiInterface
from webhooks.event_payloads import EVENT_PAYLOADS

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
                    "answer, is retried with backoff (docs/webhooks.md). Each event type's "
                    "`data` is in the document's `webhooks`.",
                    "parameters": _signature_headers(),
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


OUTBOUND_TAG = "Webhooks it sends you"


def _signature_headers() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "header",
            "required": True,
            "description": about,
            "schema": {"type": "string"},
        }
        for name, about in SIGNATURE_HEADERS
    ]


def event_webhook(event_type: str) -> dict[str, Any]:
    """The OpenAPI 3.1 webhook (a path item) of one event type: its signed POST."""
    summary, data, example = EVENT_PAYLOADS[event_type]
    body = {
        **EVENT_SCHEMA,
        "properties": {**EVENT_SCHEMA["properties"], "type": {"const": event_type}, "data": data},
    }
    return {
        "post": {
            "summary": summary,
            "description": f"Sent to every active endpoint subscribed to `{event_type}` (or "
            "to every event). Answer any 2xx within 15 seconds; anything else, or no answer, "
            "is retried with backoff, then kept as a dead letter you can replay "
            "(docs/webhooks.md).",
            "operationId": "webhook-" + event_type.replace(".", "-").replace("_", "-"),
            "parameters": _signature_headers(),
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": body,
                        "example": {**EVENT_EXAMPLE, "type": event_type, "data": example},
                    }
                },
            },
            "responses": {"2XX": {"description": "received; the hub does not retry"}},
        }
    }


def outbound_interface() -> ApiInterface:
    """The events the hub posts to merchants' endpoints, as the document's ``webhooks``."""
    return ApiInterface(
        tag=OUTBOUND_TAG,
        description="Register an endpoint with `POST /api/v1/webhook-endpoints` (or on the "
        "console's Outbound webhooks page) and the hub posts each event it subscribed to, "
        "signed as Standard Webhooks signs: check "
        "`webhook-signature` on the raw body before you trust it, and skip a "
        "`webhook-id` you processed already (a retry carries the same one). Every body is "
        "`{type, timestamp, event_id, data}`; `data` may gain fields later "
        "(docs/webhooks.md).",
        paths={},
        webhooks={event_type: event_webhook(event_type) for event_type in EVENT_PAYLOADS},
    )


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
