"""The errors the hub raises, each with an HTTP status and a stable code.

Every API error answers ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """Base of the hub's errors: ``code`` is stable, ``message`` is for people."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else {}
        if code:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": self.details,
            }
        }


class ValidationError(HubError):
    status = 422
    code = "validation_error"


class NotFound(HubError):
    status = 404
    code = "not_found"


class Conflict(HubError):
    status = 409
    code = "conflict"


class Unauthorized(HubError):
    status = 401
    code = "unauthorized"


class StartupError(Exception):
    """Raised at boot when configuration or a plugin is wrong; the message says the fix."""


class RetryLater(Exception):
    """A transient failure (timeout, 429, 5xx): the job is retried with backoff."""


class PermanentError(Exception):
    """A failure that retrying will not fix: the job goes to the failed registry."""
