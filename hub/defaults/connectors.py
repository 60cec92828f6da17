"""Built-in connector descriptions of the core itself."""

from __future__ import annotations

from hub.markers import hookimpl
from hub.registry import ConnectorInfo


@hookimpl(trylast=True)
def register_connectors():
    """The ``api`` connector: a custom integration that calls the REST API directly."""
    return [
        ConnectorInfo(
            name="api",
            title="Custom integration (REST API)",
            kind="custom",
            description="Send orders and customers with POST /api/v1/orders.",
        )
    ]
