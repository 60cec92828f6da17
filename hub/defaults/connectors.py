"""The core's own connector: a custom integration that calls the REST API."""

from __future__ import annotations

from hub.markers import hookimpl
from hub.registry import Connector


class ApiConnector(Connector):
    """Orders and customers sent with ``POST /api/v1/orders``; no webhooks, no messages."""

    name = "api"
    title = "Custom integration (REST API)"
    kind = "custom"
    description = "Send orders and customers with POST /api/v1/orders."


@hookimpl(trylast=True)
def register_connectors():
    """The ``api`` connector."""
    return [ApiConnector()]
