"""What the OpenAPI document says about errors, bodies and headers of every operation.

Views document their success answers; this module adds, in one place, the
answers every operation shares: the hub's one error shape for each status an
operation can answer, the optional ``Idempotency-Key`` header of mutating
calls, and that a ``PUT`` or ``PATCH`` body names at least one field.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from marshmallow import Schema
from marshmallow import fields

MUTATING = ("post", "put", "patch", "delete")

#: What each error status means, as the document describes it.
ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: (
        "BadRequest",
        "The body is not valid JSON, or the Idempotency-Key header is empty or too long.",
    ),
    401: (
        "Unauthorized",
        "The API key is missing, unknown or revoked; on POST /api/v1/events, or the "
        "signature is missing, wrong or more than 5 minutes old.",
    ),
    404: ("NotFound", "The resource named in the path (or in the body) does not exist."),
    409: (
        "Conflict",
        "The change conflicts with the current state (the code says which), or a request "
        "with the same Idempotency-Key is still being processed.",
    ),
    413: ("BodyTooLarge", "The body is larger than the hub accepts."),
    502: (
        "GatewayFailed",
        "The outside gateway refused the message or could not be reached (details name it).",
    ),
    422: (
        "ValidationFailed",
        "The request has invalid or unknown fields (details name them), names nothing to "
        "change, was refused by a rule of the hub, or reuses an Idempotency-Key for a "
        "different request.",
    ),
}

#: Statuses an operation answers beyond what its method, path and inputs imply.
EXTRA_STATUSES: dict[tuple[str, str], tuple[int, ...]] = {
    # The voucher code and the order are named in the body.
    ("post", "/api/v1/vouchers/use"): (404,),
    ("post", "/api/v1/vouchers/validate"): (404,),
    # min_tier_id names a tier.
    ("post", "/api/v1/rewards"): (404,),
    # The gateway's answer to a test send; a campaign whose segment is gone cannot be counted.
    ("post", "/api/v1/campaigns/{campaign_id}/test-send"): (409, 502),
    ("get", "/api/v1/campaigns/{campaign_id}/estimate"): (409,),
    # The member is named in the body (id, phone, email or member code).
    ("post", "/api/v1/events"): (404,),
}


class ErrorBodySchema(Schema):
    code = fields.Str(
        required=True, metadata={"description": "stable, for programs: `member_not_found`"}
    )
    message = fields.Str(required=True, metadata={"description": "for people; may change"})
    details = fields.Raw(
        required=True,
        metadata={
            "description": "more about the failure; for invalid fields, each field's name "
            "maps to its messages"
        },
    )


class ErrorSchema(Schema):
    """Every error the API answers: ``{"error": {"code", "message", "details"}}``."""

    error = fields.Nested(ErrorBodySchema, required=True)


IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "makes a retry safe: the same key with the same request answers the first "
    "answer again",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[!-~]+$"},
}


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from what it takes."""
    statuses = {401}
    if "{" in path:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    if any(p.get("in") == "query" for p in operation.get("parameters", ())):
        statuses.add(422)
    if method in MUTATING:
        # Idempotency-Key: 400 malformed, 409 in progress, 422 reused for another request.
        statuses |= {400, 409, 422}
    statuses.update(EXTRA_STATUSES.get((method, path), ()))
    return statuses


class ErrorResponsesPlugin(BasePlugin):
    """An apispec plugin that documents the shared answers of every operation."""

    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        spec.components.schema("Error", schema=ErrorSchema)
        for name, description in ERROR_RESPONSES.values():
            spec.components.response(
                name,
                {
                    "description": description,
                    "content": {"application/json": {"schema": "Error"}},
                },
            )
        spec.components.parameter("IdempotencyKey", "header", dict(IDEMPOTENCY_KEY_PARAMETER))

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        if not (path or "").startswith("/api/v1/"):
            return  # an interface outside the REST API documents its own answers
        for method, operation in (operations or {}).items():
            if method not in ("get", *MUTATING):
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("default", None)
            for status in error_statuses(method, path, operation):
                responses.pop(status, None)
                responses[str(status)] = ERROR_RESPONSES[status][0]
            operation["responses"] = dict(sorted(responses.items(), key=lambda item: str(item[0])))
            if method in MUTATING:
                operation.setdefault("parameters", []).append("IdempotencyKey")
            if method in ("put", "patch") and "requestBody" in operation:
                _require_a_field(operation["requestBody"])


def _require_a_field(request_body: dict[str, Any]) -> None:
    """Say that the body names at least one field (the hub refuses ``{}``)."""
    request_body["required"] = True
    for media in request_body.get("content", {}).values():
        schema = media.get("schema")
        if schema is not None:
            media["schema"] = {"allOf": [schema], "minProperties": 1}
