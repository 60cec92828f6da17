"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging

from flask import Flask
from flask import jsonify
from flask import request
from sqlalchemy.exc import DataError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from hub.api.conflicts import as_conflict
from hub.errors import HubError

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_response(status: int, code: str, message: str, details=None, headers=None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def http_error(error: HTTPException):
    """Turn werkzeug and webargs errors into the hub's shape, with field details."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or {}
    details: dict = {}
    # webargs nests messages by location: {"json": {"field": [...]}}.
    for location, fields in messages.items():
        if isinstance(fields, dict):
            details.update(fields)
        else:
            details[location] = fields
    message = data.get("message") or error.description or error.name
    if status == 400 and details.get("json") == ["Invalid JSON body."]:
        message = "the request body is not valid JSON"
        code = "malformed_json"
    elif status == 422:
        message = "the request has invalid or unknown fields; see details"
        code = "validation_error"
    elif status == 413:
        message = f"the request body is larger than {request.max_content_length} bytes"
        code = "body_too_large"
    else:
        code = _CODES.get(status, "error")
    return error_response(status, code, message, details, data.get("headers"))


def init_app(app: Flask) -> None:
    @app.errorhandler(HubError)
    def _hub_error(error: HubError):
        return error_response(error.status, error.code, error.message, error.details)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if not request.path.startswith(("/api/", "/webhooks/", "/widget/")):
            return error
        return http_error(error)

    @app.errorhandler(IntegrityError)
    def _integrity_error(error: IntegrityError):
        conflict = as_conflict(error)
        if conflict is None:
            return _unexpected(error)
        return error_response(conflict.status, conflict.code, conflict.message, conflict.details)

    @app.errorhandler(DataError)
    def _data_error(error: DataError):
        # The database refused a value (out of range, NUL in text, too long): bad input
        # an edge check missed, not a failure of ours. The driver's message names no value.
        log.warning(
            "the database refused a value on %s %s: %s",
            request.method,
            request.path,
            str(error.orig).splitlines()[0] if error.orig else type(error).__name__,
        )
        return error_response(
            422,
            "unstorable_value",
            "a value in the request cannot be stored (out of range, too long, or holding a "
            "NUL character); check the values sent",
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            500, "internal_error", "something went wrong on our side; it has been logged"
        )
