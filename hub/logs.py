"""Logging: one JSON object a line with ``HUB_LOG_FORMAT=json``, and request ids.

Every request gets an id: the ``X-Request-Id`` it came with (when it is a
short token) or a new one, sent back in the answer's ``X-Request-Id``. Jobs a
request enqueues carry it in their meta (``request_id``), so a worker's log
lines about that job name the request that caused it.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from datetime import UTC
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from flask import Flask
    from flask import Response

#: What an incoming ``X-Request-Id`` may look like to be kept (else a new id is made).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

#: Attributes every ``LogRecord`` has; anything else was passed in ``extra`` and is kept.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def current_request_id() -> str | None:
    """The id of the request or job this code runs for, if any."""
    from flask import g
    from flask import has_request_context

    if has_request_context():
        return g.get("request_id")
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:
        return None
    return (job.meta or {}).get("request_id") if job is not None else None


def with_request_id(meta: dict[str, Any] | None) -> dict[str, Any]:
    """``meta`` for a job, with the current request's id added when there is one."""
    request_id = current_request_id()
    if request_id is None or (meta and "request_id" in meta):
        return dict(meta or {})
    return {**(meta or {}), "request_id": request_id}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request and job ids."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            entry["request_id"] = request_id
        job_id = _current_job_id()
        if job_id:
            entry["job_id"] = job_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _current_job_id() -> str | None:
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:
        return None
    return job.id if job is not None else None


def configure_logging(level: str, log_format: str) -> None:
    """Set the hub's log level; with ``json``, write the process's log lines as JSON.

    The JSON handler goes on the root logger, so the lines of gunicorn's
    workers, rq and the libraries come out the same way (rq adds no handler
    of its own when one is there). Safe to call for every app the process
    makes: the handler is added once.
    """
    logging.getLogger("hub").setLevel(level)
    if log_format != "json":
        return
    root = logging.getLogger()
    if any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    wanted = logging.getLevelNamesMapping().get(str(level).upper(), logging.INFO)
    if root.level > wanted:
        root.setLevel(wanted)


def install_request_ids(app: Flask) -> None:
    """Give every request an id and send it back in ``X-Request-Id``."""
    from flask import g
    from flask import request

    @app.before_request
    def _assign() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    @app.after_request
    def _answer(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-Id"] = request_id
        return response
