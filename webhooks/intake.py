"""Inbound intake: ``POST /webhooks/<connector>/<connection_id>``.

Verify the signature on the raw body through the connector, store the
delivery in the inbox (once per platform delivery id), see that a job draining
the connection's inbox is queued, and answer 200 in milliseconds. The inbox row
is written before the answer and before the enqueue: when Redis is down the
answer is still 200 and the periodic sweep enqueues the row later, so an
accepted delivery is never lost.

A connection seen before is verified from this process's snapshot of it and
stored with one statement that also proves the snapshot current (see
``webhooks.snapshots``); anything else takes the ordinary path.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import request
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from werkzeug.datastructures import Headers

from hub import Connection
from hub import Hub
from hub import HubError
from hub import JobCall
from hub import NotFound
from hub import Unauthorized
from hub import count_metric
from hub import current_hub
from webhooks.drains import drain_requests
from webhooks.drains import enqueue_gate
from webhooks.models import InboxEntry
from webhooks.snapshots import Snapshot
from webhooks.snapshots import read_current
from webhooks.snapshots import snapshots_of
from webhooks.snapshots import store_if_current

log = logging.getLogger(__name__)

bp = Blueprint("webhooks_inbound", __name__)

#: Request headers never stored with a delivery.
_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_MAX_DELIVERY_ID = 200


@bp.post("/webhooks/<connector>/<int:connection_id>")
def receive(connector: str, connection_id: int):
    """Accept one delivery from a platform for one connection.

    The ordinary path: the fast path (``webhooks.fast_intake``) has answered
    every delivery it could store against a remembered connection before
    the request got here.
    """
    hub = current_hub()
    count_metric("webhook_deliveries", connector=connector, outcome="received")
    body = _body()
    snapshots = snapshots_of(hub)
    # One transaction (one pooled connection) for the lookup and the insert.
    with hub.db.transaction() as session:
        connection, version = read_current(session, connection_id)
        try:
            _check_active(connector, connection_id, connection)
        except NotFound:
            snapshots.forget(connector, connection_id)
            count_metric("webhook_deliveries", connector=connector, outcome="rejected")
            raise
        snapshots.remember(connection, version)
        entry_id = _verify_and_store(hub, connector, connection, body, session)
    return _answer(hub, connector, connection_id, entry_id)


def store_known(hub: Hub, snapshot: Snapshot, headers: Headers, body: bytes) -> int | None:
    """Verify against a remembered connection and insert if it is unchanged; else None.

    None sends the request down the ordinary path, which reads the connection
    afresh and gives the answer (a refusal, a duplicate, or the insert).
    """
    connection = snapshot.connection
    try:
        verified = _ask_connector(hub, "verify_webhook", connection, headers, body)
    except HubError:
        return None
    if not verified:
        return None
    delivery_id = delivery_id_for(hub, connection, headers, body)
    topic = _ask_connector(hub, "topic", connection, headers, body)
    values = inbox_values(connection, delivery_id, topic or "", headers, body)
    return store_if_current(hub, snapshot, values)


@bp.post("/webhooks/<connector>")
def receive_app_wide(connector: str):
    """Accept one delivery sent to the connector's one URL for every store.

    The connector names the connection from the headers (``connection_for``);
    everything after that is as for a connection's own URL.
    """
    hub = current_hub()
    count_metric("webhook_deliveries", connector=connector, outcome="received")
    body = _body()
    connection = hub.connector(connector).connection_for(hub, request.headers, body)
    if connection is None or connection.connector != connector or connection.status == "deleted":
        count_metric("webhook_deliveries", connector=connector, outcome="rejected")
        raise NotFound(
            f"no {connector} connection for the store this delivery names; connect the store first",
            code="connection_not_found",
        )
    with hub.db.transaction() as session:
        entry_id = _verify_and_store(hub, connector, connection, body, session)
        connection_id = connection.id
    return _answer(hub, connector, connection_id, entry_id)


def _body() -> bytes:
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)
    return request.get_data(cache=True)  # raises 413 for an oversized chunked body


def _verify_and_store(
    hub: Hub, connector: str, connection: Connection, body: bytes, session: Session
) -> int | None:
    """Check the signature (401 or 404 when it fails), then insert into the inbox."""
    headers = request.headers
    verified = _ask_connector(hub, "verify_webhook", connection, headers, body)
    if not verified:
        count_metric("webhook_deliveries", connector=connector, outcome="rejected")
    if verified is None:
        raise NotFound(
            f"the {connector} connector does not receive webhooks",
            code="connector_without_webhooks",
        )
    if not verified:
        raise Unauthorized(
            f"the signature of this delivery to connection {connection.id} is missing or "
            f"wrong; sign the raw body with the connection's webhook secret",
            code="bad_signature",
        )
    delivery_id = delivery_id_for(hub, connection, headers, body)
    topic = _ask_connector(hub, "topic", connection, headers, body)
    return store(hub, connection, delivery_id, topic or "", headers, body, session=session)


def _answer(hub: Hub, connector: str, connection_id: int, entry_id: int | None):
    """See that a drain of the connection's inbox is on its way (after the commit) and
    answer 200 either way."""
    if entry_id is not None:
        schedule_drain(hub, connection_id, entry_id, connector=connector)
    outcome = "duplicate" if entry_id is None else "stored"
    count_metric("webhook_deliveries", connector=connector, outcome=outcome)
    return Response(ANSWERS[entry_id is None], 200, mimetype="application/json")


#: The two answers, by whether the delivery was a duplicate: the same bytes every time.
ANSWERS = {
    duplicate: json.dumps({"received": True, "duplicate": duplicate}).encode() + b"\n"
    for duplicate in (False, True)
}


def _check_active(connector: str, connection_id: int, connection: Connection | None) -> Connection:
    """Return the connection a webhook URL names if it is active, or raise NotFound (404)."""
    if connection is None or connection.connector != connector or connection.status != "active":
        raise NotFound(
            f"no active {connector} connection {connection_id}; check the webhook URL",
            code="connection_not_found",
        )
    return connection


def _ask_connector(
    hub: Hub, method: str, connection: Connection, headers: Headers, body: bytes
) -> Any:
    """Ask the connection's connector ``method(hub, connection, headers, body)``.

    A body nested too deep for the connector to parse answers 400 and is not
    stored: the connector cannot name its topic or delivery id, so it could
    be neither deduplicated nor processed, and a stored row would only fail
    again in the worker. A 4xx tells the sender the delivery itself is at
    fault, where a 500 invites it to retry for ever.
    """
    connector = hub.connector(connection.connector)
    try:
        return getattr(connector, method)(hub, connection, headers, body)
    except RecursionError:
        raise HubError(
            f"the body of this delivery to connection {connection.id} nests too deep to "
            f"read; send the event as documented",
            code="body_too_deep",
        ) from None


def delivery_id_for(hub: Hub, connection: Connection, headers: Headers, body: bytes) -> str:
    """Return the connector's delivery id, or a hash of the body when it has none."""
    value = _ask_connector(hub, "delivery_id", connection, headers, body)
    if not value:
        return "sha256:" + hashlib.sha256(body).hexdigest()
    value = str(value)
    if len(value) > _MAX_DELIVERY_ID:
        return "sha256-id:" + hashlib.sha256(value.encode()).hexdigest()
    return value


def store(
    hub: Hub,
    connection: Connection,
    delivery_id: str,
    topic: str,
    headers: Headers | dict[str, str],
    body: bytes,
    *,
    session: Session | None = None,
) -> int | None:
    """Insert the delivery into the inbox; return its id, or None when it was there already.

    Inside ``session``'s transaction when given (the caller commits), else in one of its own.
    """
    values = inbox_values(connection, delivery_id, topic, headers, body)
    statement = _insert_statement("sqlite" if hub.db.is_sqlite else "postgresql")
    if session is not None:
        return session.execute(statement, values).scalar_one_or_none()
    with hub.db.transaction() as own:
        return own.execute(statement, values).scalar_one_or_none()


def inbox_values(
    connection: Connection,
    delivery_id: str,
    topic: str,
    headers: Headers | dict[str, str],
    body: bytes,
) -> dict[str, Any]:
    """Return the columns of a new inbox row (its ``received_at`` is the database's default)."""
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


@functools.cache
def _insert_statement(dialect_name: str) -> Any:
    """Build the inbox insert once per dialect: a Core statement, values bound per call."""
    dialect = sqlite if dialect_name == "sqlite" else postgresql
    table = InboxEntry.__table__
    return (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=["connection_id", "delivery_id"])
        .returning(table.c.id)
    )


def schedule_drain(hub: Hub, connection_id: int, entry_id: int, *, connector: str) -> None:
    """See that a job draining the connection's inbox runs after this row's commit.

    With Redis the process's drain thread queues it a few milliseconds later
    (``webhooks.drains``); without, the row is processed at once, by its own
    job. Never raises: the row is stored, and the sweep enqueues what this
    could not.
    """
    if hub.jobs.is_inline:
        enqueue_entry(hub, entry_id, connector=connector)
    else:
        drain_requests(hub).ask(connection_id, connector)


def inbox_job_id(entry_id: int) -> str:
    """Return the job id of an inbox row: the same for every enqueue of it."""
    return f"webhook-in-{entry_id}"


def enqueue_entry(hub: Hub, entry_id: int, *, connector: str, force: bool = False) -> bool:
    """Enqueue the job of one inbox row; return False when it must wait for the sweep.

    Never raises: the row is stored, and the sweep enqueues what this could not.
    """
    gate = enqueue_gate(hub)
    if not (force or gate.is_open()):
        return False
    meta: dict[str, Any] = {"plugin": "webhooks", "connector": connector, "inbox_id": entry_id}
    job = JobCall(
        "webhooks.inbox.process_entry",
        (entry_id,),
        job_id=inbox_job_id(entry_id),
        queue="inbound",
        retry=hub.jobs.default_retry(),
        meta=meta,
    )
    try:
        # One round trip; a job already there (a replay racing the sweep) is left alone.
        hub.jobs.enqueue_many([job])
    except Exception as exc:
        gate.close()
        log.warning("inbox row %s not enqueued (%s); the sweep will enqueue it", entry_id, exc)
        return False
    return True
