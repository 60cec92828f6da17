"""The intake's fast path: a delivery for a remembered connection, answered before Flask.

Most deliveries go to a connection this process has seen: the snapshot of it
(``webhooks.snapshots``) verifies the signature, and one statement stores
the row while proving the snapshot current. For those, Flask's request
machinery (request context, routing, session, before and after hooks,
response object) was most of the work of a request. This WSGI middleware,
in front of the app, does only that: it reads the body, calls the
connector's verify, delivery id and topic methods, stores the row, asks for
the drain and answers 200 with the prebuilt body.

Anything else passes to the app untouched, with the body it read put back:
an unknown connection, a missing or oversized ``Content-Length``, a chunked
body, a refusal, a duplicate, a changed connection, an error. The ordinary
path then gives the answer, so every answer other than a fresh 200 comes
from one place. The connector's methods run inside an app context, as on the ordinary
path, but outside a request context, as the contract allows: they
use their arguments. A connector that reaches for the request anyway raises,
and the delivery takes the ordinary path.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from flask import Flask
from werkzeug.datastructures import EnvironHeaders

from hub import Hub
from hub import count_metric
from webhooks.intake import ANSWERS
from webhooks.intake import schedule_drain
from webhooks.intake import store_known
from webhooks.snapshots import snapshots_of

log = logging.getLogger(__name__)

_PREFIX = "/webhooks/"
_ANSWER = ANSWERS[False]
_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(_ANSWER)))]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FastIntake:
    """WSGI middleware answering the deliveries it can store at once; the app the rest."""

    def __init__(self, app: Flask, hub: Hub, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.hub = hub
        self.wsgi_app = wsgi_app
        self.snapshots = snapshots_of(hub)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").startswith(
            _PREFIX
        ):
            try:
                stored = self._store(environ)
            except Exception:  # the ordinary path meets it again and answers for it
                log.debug("fast intake passed a delivery on after an error", exc_info=True)
                stored = False
            if stored:
                start_response("200 OK", list(_HEADERS))
                return [_ANSWER]
        return self.wsgi_app(environ, start_response)

    def _store(self, environ: dict[str, Any]) -> bool:
        """Store the delivery if its connection is remembered and unchanged; True if stored."""
        parts = environ["PATH_INFO"].split("/")
        if len(parts) != 4 or not (parts[3].isascii() and parts[3].isdigit()):
            return False
        connector, connection_id = parts[2], int(parts[3])
        snapshot = self.snapshots.get(connector, connection_id)
        if snapshot is None:
            return False
        declared = environ.get("CONTENT_LENGTH") or ""
        if not declared.isdigit() or environ.get("HTTP_TRANSFER_ENCODING"):
            return False
        size = int(declared)
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and size > limit:
            return False
        body = environ["wsgi.input"].read(size)
        environ["wsgi.input"] = io.BytesIO(body)  # for the app, if this passes it on
        if len(body) != size:
            return False
        with self.app.app_context():
            entry_id = store_known(self.hub, snapshot, EnvironHeaders(environ), body)
        if entry_id is None:
            return False
        schedule_drain(self.hub, connection_id, entry_id, connector=connector)
        count_metric("webhook_deliveries", connector=connector, outcome="received")
        count_metric("webhook_deliveries", connector=connector, outcome="stored")
        return True


def install(hub: Hub) -> None:
    """Put the fast path in front of the hub's app."""
    app = hub.app
    if not isinstance(app.wsgi_app, FastIntake):
        app.wsgi_app = FastIntake(app, hub, app.wsgi_app)  # type: ignore[method-assign]
