"""What every request's input must hold before a view sees it.

Some values pass any schema yet no database can keep them: a NUL character
(PostgreSQL text refuses it), a lone UTF-16 surrogate (no UTF-8 encoding
exists for it), an integer beyond 64 bits (no BIGINT holds it), an infinite
number (JSON columns cannot write it). A JSON body nested thousands deep
exhausts Python's recursion before a schema runs at all. Each is refused
here, in one place, with the API's error shape and the field it was found
in, for the JSON body, the query string, the form and the URL of every
request except the signed deliveries under ``/webhooks/`` and
``/messaging/``, whose raw bodies belong to their intake.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from hub.errors import HubError
from hub.errors import NotFound
from hub.errors import ValidationError

#: The largest and smallest integers a BIGINT column (and SQLite's INTEGER) holds.
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

#: How deep a JSON body may nest; no request of the API comes near it.
MAX_JSON_DEPTH = 32

#: Paths whose bodies are signed deliveries of a platform, read raw by their intake.
_RAW_BODY_PREFIXES = ("/webhooks/", "/messaging/")

_BAD_TEXT = "must not contain the NUL character or an unpaired surrogate"
_BAD_NUMBER = f"must be a finite number between {INT64_MIN} and {INT64_MAX}"


class BodyTooDeep(HubError):
    """The JSON body nests deeper than ``MAX_JSON_DEPTH`` levels."""

    status = 400
    code = "body_too_deep"


class Int64Converter(IntegerConverter):
    """Flask's ``int`` URL converter, bounded to 64 bits: a longer id is no object's (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT64_MAX)
        super().__init__(map, *args, **kwargs)


def storable_text(value: str) -> bool:
    """True when a database can keep ``value``: no NUL, no unpaired surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def find_unstorable(document: Any) -> tuple[str, str] | None:
    """Return ``(where, what is wrong)`` for the first unstorable value in a parsed JSON document.

    ``where`` is a dotted path (``lines.0.title``); a depth beyond
    ``MAX_JSON_DEPTH`` is reported as ``("", "too deep")``. The walk keeps its
    own stack, so a deep document cannot exhaust the interpreter's.
    """
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            if not storable_text(value):
                return where, _BAD_TEXT
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                return where, _BAD_NUMBER
        elif isinstance(value, float):
            if not math.isfinite(value):
                return where, _BAD_NUMBER
        elif depth >= MAX_JSON_DEPTH:
            return "", "too deep"
        elif isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                if not storable_text(key):
                    return (where or "json"), f"a key {_BAD_TEXT}"
                stack.append((item, path, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((item, f"{where}.{index}" if where else str(index), depth + 1))
    return None


def _check_json_body() -> None:
    data = request.get_data(cache=True)
    if not data.strip():
        return
    try:
        document = json.loads(data)
    except RecursionError:
        _too_deep()
    except ValueError:
        return  # not JSON: the view's parser answers malformed_json
    found = find_unstorable(document)
    if found is None:
        return
    where, problem = found
    if problem == "too deep":
        _too_deep()
    raise ValidationError(
        f"the request body has a value no field can hold at {where or 'its top level'}; "
        "see details",
        details={where or "json": [problem]},
    )


def _too_deep() -> None:
    raise BodyTooDeep(
        f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels; no request needs that",
        details={"json": [f"nested deeper than {MAX_JSON_DEPTH} levels"]},
    )


def _check_pairs(pairs: Any, what: str) -> None:
    for key, value in pairs:
        if not storable_text(key):
            raise ValidationError(
                f"a {what} name {_BAD_TEXT}", details={what: [f"a name {_BAD_TEXT}"]}
            )
        if isinstance(value, str) and not storable_text(value):
            raise ValidationError(f"the {what} {key!r} {_BAD_TEXT}", details={key: [_BAD_TEXT]})


def _check_streamed_size() -> None:
    """Refuse a chunked body over the limit with 413, as one with a Content-Length is.

    Werkzeug stops reading a body sent without a length at the limit and
    hands over what it read, which would then fail as malformed JSON or a bad
    signature. Reading past the limit tells the two apart: an oversized body
    has more to give, one of exactly the limit has not.
    """
    limit = request.max_content_length
    if limit is None or request.content_length is not None:
        return
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return
    data = request.get_data(cache=True)
    if len(data) >= limit and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


def allow_large_body(app: Flask, endpoint: str, setting: str) -> None:
    """Let the view ``endpoint`` take a body up to the hub setting ``setting`` (a file upload)."""
    app.extensions.setdefault("large_bodies", {})[endpoint] = setting


def _apply_view_limit() -> None:
    setting = current_app.extensions.get("large_bodies", {}).get(request.endpoint)
    if setting is not None:
        request.max_content_length = current_app.extensions["hub"].config[setting]


def check_request() -> Response | None:
    """Refuse input no view could store; runs before every view."""
    _apply_view_limit()
    _check_streamed_size()
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and not storable_text(value):
            raise NotFound(f"no object is named with a NUL character ({request.path!r})")
    _check_pairs(request.args.items(multi=True), "query parameter")
    if request.path.startswith(_RAW_BODY_PREFIXES) or request.method in ("GET", "HEAD"):
        return None
    if request.is_json:
        _check_json_body()
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_pairs(request.form.items(multi=True), "form field")
    return None


def init_app(app: Flask) -> None:
    """Bound ``<int:...>`` in URLs to 64 bits and check every request's input.

    Call before any blueprint is registered, so every rule gets the bounded converter.
    """
    app.url_map.converters["int"] = Int64Converter
    app.before_request(check_request)
