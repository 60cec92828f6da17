"""Inbound intake: ``POST /webhooks/<connector>/<connection_id>`` and ``/webhooks/<connector>``.

Every delivery takes one path (``accept``): find the connection, verify the
signature on the raw body through the connector's hook, store the delivery in
the inbox once per platform delivery id, ask for a drain of the connection's
inbox, answer. A connection's own URL names it; the connector's app-wide URL
has the connector name it from the delivery (``connection_for``).

The connection is taken from this process's snapshot of it when there is one
(``webhooks.snapshots``), else read afresh. The inbox insert is one statement
that stores the row only if the connection's row is still the one the
snapshot was read from, so a stale snapshot never accepts what the current
connection would refuse: when nothing was stored, the connection is read
afresh and the delivery checked again, and a delivery already in the inbox is
answered as a duplicate. The row is committed before the answer; the drain is
requested after the commit (``webhooks.drains``), so when Redis is down the
answer is still 200 and the sweep queues the row later.

``Intake`` serves these URLs as WSGI middleware in front of the hub's Flask
app: each request costs the body's read, the connector's hooks, the insert
and the answer, with none of Flask's request machinery. The hooks run with an
app context and their arguments, without a request context, as their
specifications say. Every other request passes to the app untouched.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import EnvironHeaders
from werkzeug.datastructures import Headers
from werkzeug.http import HTTP_STATUS_CODES

from hub import Connection
from hub import Hub
from hub import HubError
from hub import NotFound
from hub import Unauthorized
from hub import WebhookDelivery
from hub import count_metric
from webhooks.drains import request_drain
from webhooks.guarded_insert import store_if_current
from webhooks.models import InboxEntry
from webhooks.snapshots import snapshot_for
from webhooks.snapshots import snapshots_of

log = logging.getLogger(__name__)

#: The two URLs, as routes: the ``route`` label of their request counts.
CONNECTION_ROUTE = "/webhooks/<connector>/<int:connection_id>"
APP_WIDE_ROUTE = "/webhooks/<connector>"
_PREFIX = "/webhooks/"
#: Request headers never stored with a delivery.
_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_MAX_DELIVERY_ID = 200
#: Reads of the connection afresh before a delivery is given up on: each follows an insert
#: that found the connection changed since it was read.
_FRESH_READS = 2
#: How much of a body sent without a length is read at a time.
_CHUNK = 65536

#: The two answers, by whether the delivery was a duplicate: the same bytes every time.
ANSWERS = {
    duplicate: json.dumps({"received": True, "duplicate": duplicate}).encode() + b"\n"
    for duplicate in (False, True)
}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BodyTooLarge(HubError):
    status = 413
    code = "body_too_large"


class ConnectionChanging(HubError):
    status = 503
    code = "connection_changing"


class Intake:
    """WSGI middleware answering every POST to the webhook URLs; the app the rest."""

    def __init__(self, hub: Hub, wsgi_app: WSGIApp) -> None:
        self.hub = hub
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = _target(environ)
        if target is None:
            return self.wsgi_app(environ, start_response)
        connector, connection_id = target
        status, answer = self.answer(environ, connector, connection_id)
        route = APP_WIDE_ROUTE if connection_id is None else CONNECTION_ROUTE
        count_metric("http_requests", method="POST", route=route, status=str(status))
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))]
        start_response(f"{status} {HTTP_STATUS_CODES[status]}", headers)
        return [answer]

    def answer(
        self, environ: dict[str, Any], connector: str, connection_id: int | None
    ) -> tuple[int, bytes]:
        """Take the delivery; return the answer's status and body."""
        try:
            with self.hub.app.app_context():
                body = read_body(environ, self.hub.app.config.get("MAX_CONTENT_LENGTH"))
                entry_id = accept(self.hub, connector, connection_id, EnvironHeaders(environ), body)
        except HubError as exc:
            return exc.status, json.dumps(exc.to_dict()).encode()
        except Exception:
            log.exception("unhandled error on POST %s", environ.get("PATH_INFO"))
            failure = HubError(
                "something went wrong on our side; it has been logged", code="internal_error"
            )
            return 500, json.dumps(failure.to_dict()).encode()
        return 200, ANSWERS[entry_id is None]


def install(hub: Hub) -> None:
    """Put the intake in front of the hub's app."""
    app = hub.app
    if not isinstance(app.wsgi_app, Intake):
        app.wsgi_app = Intake(hub, app.wsgi_app)  # type: ignore[method-assign]


def _target(environ: dict[str, Any]) -> tuple[str, int | None] | None:
    """The connector and connection id a POST to a webhook URL names, or None for any
    other request."""
    path = environ.get("PATH_INFO", "")
    if environ.get("REQUEST_METHOD") != "POST" or not path.startswith(_PREFIX):
        return None
    parts = path[len(_PREFIX) :].split("/")
    if not parts[0] or len(parts) > 2:
        return None
    if len(parts) == 1:
        return parts[0], None
    if not (parts[1].isascii() and parts[1].isdigit()):
        return None
    return parts[0], int(parts[1])


def read_body(environ: dict[str, Any], limit: int | None) -> bytes:
    """Read the request's body whole; 413 past ``limit``, however it is sent."""
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared:
        size = int(declared) if declared.isdigit() else -1
        if size < 0:
            raise HubError(f"the Content-Length {declared[:40]!r} is not a number of bytes")
        if limit is not None and size > limit:
            raise _too_large(limit)
        body = stream.read(size)
        if len(body) != size:
            raise HubError("the body ended before its Content-Length; send it whole")
        return body
    if not environ.get("wsgi.input_terminated"):
        return b""  # no length and no server that ends the stream: nothing can be read safely
    parts, size = [], 0
    while part := stream.read(_CHUNK):
        parts.append(part)
        size += len(part)
        if limit is not None and size > limit:
            raise _too_large(limit)
    return b"".join(parts)


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"the request body is larger than {limit} bytes")


def accept(
    hub: Hub, connector: str, connection_id: int | None, headers: Headers, body: bytes
) -> int | None:
    """Verify and store one delivery; return its inbox row's id, or None for a duplicate.

    ``connection_id`` is None for the connector's app-wide URL. Raises
    ``NotFound`` (404) for a URL that names no connection taking deliveries,
    ``Unauthorized`` (401) for a signature that does not check out, and a
    ``HubError`` (400) for a body the connector cannot read; nothing is then
    stored; ``UnknownConnector`` (404) for a connector no plugin provides, counted
    nowhere, so made-up names never become metric labels. Needs an app context.
    """
    hub.connector(connector)
    count_metric("webhook_deliveries", connector=connector, outcome="received")
    try:
        if connection_id is None:
            named = _named_connection(hub, connector, headers, body)
            entry_id = _store(hub, connector, named, headers, body, app_wide=True)
        else:
            entry_id = _store(hub, connector, connection_id, headers, body, app_wide=False)
    except (NotFound, Unauthorized):
        count_metric("webhook_deliveries", connector=connector, outcome="rejected")
        raise
    outcome = "duplicate" if entry_id is None else "stored"
    count_metric("webhook_deliveries", connector=connector, outcome=outcome)
    return entry_id


def _store(
    hub: Hub, connector: str, connection_id: int, headers: Headers, body: bytes, *, app_wide: bool
) -> int | None:
    """Store the delivery against the remembered connection, or else the one read afresh.

    A remembered connection that refuses the delivery, or that changed since it
    was read, is read afresh and the delivery checked again: only the
    connection as it is now refuses, and only its row version stores.
    """
    snapshot, fresh = snapshot_for(hub, connector, connection_id, app_wide=app_wide)
    for attempt in range(_FRESH_READS + (not fresh)):
        if attempt:  # refused or changed: read it again
            snapshot, fresh = snapshot_for(
                hub, connector, connection_id, app_wide=app_wide, afresh=True
            )
        try:
            values = _verified(hub, snapshot.connection, headers, body)
        except HubError:
            if fresh:
                raise
            values = None
        entry_id = None if values is None else store_if_current(hub, snapshot, values)
        if entry_id is not None:
            request_drain(hub, connection_id, connector)
            return entry_id
        if fresh and values is not None and _is_stored(hub, connection_id, values["delivery_id"]):
            return None
    snapshots_of(hub).forget(connector, connection_id)
    raise ConnectionChanging(
        f"connection {connection_id} changed while this delivery was being stored; send it again"
    )


def _named_connection(hub: Hub, connector: str, headers: Headers, body: bytes) -> int:
    """The id of the connection the connector names for an app-wide delivery, or 404."""
    connection = None
    if connector in hub.connectors:
        connection = hub.connector(connector).connection_for(hub, headers, body)
    if connection is None or connection.connector != connector or connection.status == "deleted":
        raise NotFound(
            f"no {connector} connection for the store this delivery names; connect the store first",
            code="connection_not_found",
        )
    return connection.id


def _verified(hub: Hub, connection: Connection, headers: Headers, body: bytes) -> dict[str, Any]:
    """Check the signature (401, or 404 for a connector without webhooks); return the
    columns of the delivery's inbox row."""
    delivery = _read_webhook(hub, connection, headers, body)
    if delivery is None:
        raise NotFound(
            f"the {connection.connector} connector does not receive webhooks",
            code="connector_without_webhooks",
        )
    if not delivery.verified:
        raise Unauthorized(
            f"the signature of this delivery to connection {connection.id} is missing or "
            f"wrong; sign the raw body with the connection's webhook secret",
            code="bad_signature",
        )
    delivery_id = delivery_id_of(delivery.delivery_id, body)
    return inbox_values(connection, delivery_id, delivery.topic or "", headers, body)


def _read_webhook(
    hub: Hub, connection: Connection, headers: Headers, body: bytes
) -> WebhookDelivery | None:
    """Ask the connection's connector to read the delivery, in one question.

    A body nested too deep for the connector to parse answers 400 and is not
    stored: the connector cannot name its topic or delivery id, so it could
    be neither deduplicated nor processed, and a stored row would only fail
    again in the worker. A 4xx tells the sender the delivery itself is at
    fault, where a 500 invites it to retry for ever.
    """
    connector = hub.connector(connection.connector)
    try:
        return connector.read_webhook(hub, connection, headers, body)
    except RecursionError:
        raise HubError(
            f"the body of this delivery to connection {connection.id} nests too deep to "
            f"read; send the event as documented",
            code="body_too_deep",
        ) from None


def delivery_id_of(value: str | None, body: bytes) -> str:
    """Return the connector's delivery id, or a hash of the body when it has none."""
    if not value:
        return "sha256:" + hashlib.sha256(body).hexdigest()
    value = str(value)
    if len(value) > _MAX_DELIVERY_ID:
        return "sha256-id:" + hashlib.sha256(value.encode()).hexdigest()
    return value


def inbox_values(
    connection: Connection,
    delivery_id: str,
    topic: str,
    headers: Headers | dict[str, str],
    body: bytes,
) -> dict[str, Any]:
    """Return the columns of a new inbox row (its ``received_at`` is set when it is stored)."""
    return {
        "merchant_id": connection.merchant_id,
        "connection_id": connection.id,
        "connector": connection.connector,
        "delivery_id": delivery_id,
        "topic": topic[:200],
        "headers": {
            name: value
            for key, value in headers.items()
            if (name := key.lower()) not in _PRIVATE_HEADERS
        },
        "body": body,
        "status": "pending",
        "attempts": 0,
    }


def _is_stored(hub: Hub, connection_id: int, delivery_id: str) -> bool:
    """Whether the inbox holds this delivery of the connection already."""
    with hub.db.session() as session:
        found = session.scalar(
            select(InboxEntry.id).where(
                InboxEntry.connection_id == connection_id, InboxEntry.delivery_id == delivery_id
            )
        )
    return found is not None
