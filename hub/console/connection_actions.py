"""What a connection's page does besides editing: till keys, replays, a test message.

Each calls the service the API calls: the connector's key methods (the same
functions answer ``/api/v1/pos/connections/<id>/keys``), ``replay_failed``
and ``send_test_message`` (``/api/v1/connections/<id>/replay`` and
``.../test-message``).
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from hub.connection_health import replay_failed
from hub.connection_health import send_test_message
from hub.console.connection_views import connection_page
from hub.console.web import bp
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.errors import NotFound
from hub.merchants.connections import connector_info
from hub.merchants.connections import get_connection


def _actor() -> str:
    return f"staff:{user().user_id}"


def _failed(connection_id: int, exc: HubError):
    if exc.status == 404:
        raise exc
    return connection_page(connection_id, status=exc.status, problem=exc.message)


@bp.post("/connections/<int:connection_id>/keys")
@requires("owner")
def issue_till_key(connection_id: int):
    hub = current_hub()
    name = request.form.get("name", "").replace("\x00", "").strip()[:100]
    try:
        with hub.db.transaction() as session:
            connection = get_connection(session, user().merchant_id, connection_id)
            info = connector_info(hub, connection)
            if info.access_keys(hub, session, connection) is None:
                raise NotFound(f"connection {connection_id} takes no keys")
            issued = info.issue_access_key(hub, session, connection, name, _actor())
    except HubError as exc:
        return _failed(connection_id, exc)
    return connection_page(
        connection_id,
        success=_("Key made. Copy it into the till now: it is shown only this once."),
        secret=issued.secret,
    )


@bp.post("/connections/<int:connection_id>/keys/<int:key_id>/revoke")
@requires("owner")
def revoke_till_key(connection_id: int, key_id: int):
    hub = current_hub()
    try:
        with hub.db.transaction() as session:
            connection = get_connection(session, user().merchant_id, connection_id)
            info = connector_info(hub, connection)
            if info.access_keys(hub, session, connection) is None:
                raise NotFound(f"connection {connection_id} takes no keys")
            info.revoke_access_key(hub, session, connection, key_id, _actor())
    except HubError as exc:
        return _failed(connection_id, exc)
    return connection_page(
        connection_id, success=_("Key revoked: tills using it are refused from now on.")
    )


@bp.post("/connections/<int:connection_id>/replay")
@requires("manager")
def replay_connection(connection_id: int):
    queued = replay_failed(current_hub(), user().merchant_id, connection_id, actor=_actor())
    message = (
        _("%(n)s failed deliveries queued again.", n=queued)
        if queued
        else _("No failed deliveries to replay.")
    )
    return connection_page(connection_id, success=message)


@bp.post("/connections/<int:connection_id>/test-message")
@requires("manager")
def test_message(connection_id: int):
    to = request.form.get("to", "")[:40]
    text = _("Test message from %(shop)s through Storefront Hub.", shop=user().merchant_name)
    try:
        sent = send_test_message(
            current_hub(), user().merchant_id, connection_id, to, text=text, actor=_actor()
        )
    except HubError as exc:
        return _failed(connection_id, exc)
    return connection_page(
        connection_id,
        success=_(
            "Test message handed to the gateway (%(parts)s SMS part(s)); check the phone.",
            parts=sent.segments,
        ),
    )
