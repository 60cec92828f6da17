"""Connections to outside systems; secrets go in encrypted and never come out."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from hub.api.schemas import ConnectionInSchema
from hub.api.schemas import ConnectionSchema
from hub.api.schemas import ConnectionUpdateSchema
from hub.api.schemas import WidgetSecretSchema
from hub.core import current_hub
from hub.merchants.connections import connection_view
from hub.merchants.connections import create_connection
from hub.merchants.connections import get_connection
from hub.merchants.connections import list_connections
from hub.merchants.connections import update_connection
from hub.widget.tokens import new_widget_secret

blp = Blueprint("connections", __name__, url_prefix="/connections", description="Connections")


@blp.route("")
class Connections(MethodView):
    @blp.response(200, ConnectionSchema(many=True))
    def get(self):
        """List the merchant's connections."""
        hub = current_hub()
        with hub.db.session() as session:
            rows = list_connections(session, g.merchant_id)
            return [connection_view(hub, c) for c in rows]

    @blp.arguments(ConnectionInSchema)
    @blp.response(201, ConnectionSchema)
    def post(self, data):
        """Create a connection for a registered connector."""
        hub = current_hub()
        with hub.db.transaction() as session:
            connection = create_connection(hub, session, g.merchant_id, **data, actor=g.actor)
            return connection_view(hub, connection)


@blp.route("/<int:connection_id>")
class ConnectionById(MethodView):
    @blp.response(200, ConnectionSchema)
    def get(self, connection_id):
        """Get one connection; secret values are never shown."""
        hub = current_hub()
        with hub.db.session() as session:
            return connection_view(hub, get_connection(session, g.merchant_id, connection_id))

    @blp.arguments(ConnectionUpdateSchema)
    @blp.response(200, ConnectionSchema)
    def patch(self, data, connection_id):
        """Rename, disable, re-enable or change a connection's settings and secrets."""
        hub = current_hub()
        with hub.db.transaction() as session:
            connection = get_connection(session, g.merchant_id, connection_id)
            update_connection(hub, session, connection, data, actor=g.actor)
            return connection_view(hub, connection)

    @blp.response(204)
    def delete(self, connection_id):
        """Disable a connection for good: its webhooks are refused from now on."""
        hub = current_hub()
        with hub.db.transaction() as session:
            connection = get_connection(session, g.merchant_id, connection_id)
            update_connection(hub, session, connection, {"status": "deleted"}, actor=g.actor)


@blp.route("/<int:connection_id>/widget-secret")
class WidgetSecret(MethodView):
    @blp.response(201, WidgetSecretSchema)
    def post(self, connection_id):
        """Make (or replace) the secret the store signs widget visitor tokens with; shown once.

        The previous secret stops working at once: update the store's snippet.
        """
        hub = current_hub()
        secret = new_widget_secret()
        with hub.db.transaction() as session:
            connection = get_connection(session, g.merchant_id, connection_id)
            update_connection(
                hub, session, connection, {"secrets": {"widget_secret": secret}}, actor=g.actor
            )
        return {"widget_secret": secret, "connection_id": connection_id}
