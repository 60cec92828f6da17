"""A ``PUT`` or ``PATCH`` names what it changes: an empty body or ``{}`` is refused.

Without this rule a ``PUT`` with no body loads as ``{}`` and replaces a resource
with its defaults, and a ``PATCH`` with no body answers 200 having changed
nothing, which hides a client's mistake.
"""

from __future__ import annotations

import re

from flask import Flask
from flask import g
from flask import request

from hub.api.errors import error_response

#: A body with nothing in it: empty, whitespace, or an empty JSON object.
_EMPTY = re.compile(rb"\s*(\{\s*\}\s*)?")


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_empty_changes():
        if (
            request.method not in ("PUT", "PATCH")
            or not request.path.startswith("/api/v1/")
            or request.routing_exception is not None
            or "merchant_id" not in g
        ):
            return None
        length, limit = request.content_length, request.max_content_length
        if length is not None and limit is not None and length > limit:
            return None  # answered 413 where the body is read
        if not _EMPTY.fullmatch(request.get_data(cache=True)):
            return None
        return error_response(
            422,
            "empty_body",
            f"{request.method} {request.path} needs a JSON body that names at least one field",
            {"json": ["name at least one field"]},
        )
