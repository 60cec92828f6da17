"""Connections: a merchant's link to a store, a POS or a gateway, secrets encrypted."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.connection_settings import check_secrets
from hub.connection_settings import check_settings
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.models import Connection
from hub.registry import Connector
from hub.registry import bare_connector

if TYPE_CHECKING:
    from hub.core import Hub


def get_connection(session: Session, merchant_id: int, connection_id: int) -> Connection:
    connection = session.get(Connection, connection_id)
    if (
        connection is None
        or connection.merchant_id != merchant_id
        or connection.status == "deleted"
    ):
        raise NotFound(f"connection {connection_id} not found", code="connection_not_found")
    return connection


def list_connections(session: Session, merchant_id: int) -> list[Connection]:
    """Return the merchant's connections that are not deleted, oldest first."""
    query = select(Connection).where(
        Connection.merchant_id == merchant_id, Connection.status != "deleted"
    )
    return list(session.scalars(query.order_by(Connection.id)))


def active_connection_ids(
    session: Session, connector: str, *, merchant_id: int | None = None
) -> list[int]:
    """Return the ids of the connector's active connections, of one merchant or of all."""
    query = select(Connection.id).where(
        Connection.connector == connector, Connection.status == "active"
    )
    if merchant_id is not None:
        query = query.where(Connection.merchant_id == merchant_id)
    return list(session.scalars(query.order_by(Connection.id)))


def create_connection(
    hub: Hub,
    session: Session,
    merchant_id: int,
    *,
    connector: str,
    name: str = "",
    settings: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    actor: str = "api",
) -> Connection:
    """Create a connection to a registered connector; ``secrets`` are stored encrypted.

    ``settings`` and ``secrets`` are the merchant's: they are loaded with the
    connector's schemas, and anything unknown or malformed answers 422.
    """
    if connector not in hub.connectors:
        known = ", ".join(sorted(hub.connectors)) or "none"
        raise ValidationError(
            f"unknown connector {connector!r}; installed connectors: {known}",
            details={"connector": [f"one of {known}"]},
            code="unknown_connector",
        )
    info = hub.connectors[connector]
    connection = Connection(
        merchant_id=merchant_id,
        connector=connector,
        name=name or connector,
        settings=check_settings(info, settings or {}, partial=False),
        secrets_encrypted=hub.secrets.encrypt(check_secrets(info, secrets or {}, partial=False)),
    )
    session.add(connection)
    session.flush()
    audit.record(
        session,
        merchant_id,
        actor=actor,
        action="connection.created",
        object_type="connection",
        object_id=connection.id,
        data={"connector": connector},
    )
    return connection


def update_connection(
    hub: Hub, session: Session, connection: Connection, changes: dict[str, Any], *, actor: str
) -> Connection:
    """Apply a merchant's changes; settings and secrets given are merged into the stored ones.

    Only the settings and secrets named are checked against the connector's
    schemas: keys stored earlier stay as they are, known or not.
    """
    info = connector_info(hub, connection)
    if "secrets" in changes:
        given = check_secrets(info, changes.pop("secrets"), partial=True)
        current = hub.secrets.decrypt(connection.secrets_encrypted)
        current.update(given)
        connection.secrets_encrypted = hub.secrets.encrypt(current)
    if "settings" in changes:
        given = check_settings(info, changes.pop("settings"), partial=True)
        connection.settings = {**(connection.settings or {}), **given}
    for key, value in changes.items():
        setattr(connection, key, value)
    audit.record(
        session,
        connection.merchant_id,
        actor=actor,
        action="connection.updated",
        object_type="connection",
        object_id=connection.id,
        data={"fields": sorted(changes)},
    )
    return connection


def connector_info(hub: Hub, connection: Connection) -> Connector:
    """The registered connector of the connection, for its description and schemas.

    A connection whose connector is no longer installed gets a bare one, so
    its settings are held to the hub's own for a store.
    """
    return hub.connectors.get(connection.connector) or bare_connector(connection.connector)


def connection_secrets(hub: Hub, connection: Connection) -> dict[str, str]:
    """Return the decrypted secrets of a connection (for its connector only)."""
    return hub.secrets.decrypt(connection.secrets_encrypted)


def connection_view(hub: Hub, connection: Connection) -> dict[str, Any]:
    data = {c.name: getattr(connection, c.name) for c in Connection.__table__.columns}
    data["secret_names"] = sorted(connection_secrets(hub, connection))
    return data
