"""The ``haravan`` connector plugin."""

from __future__ import annotations

from hub import ConnectorInfo
from hub import hookimpl

NAME = "haravan"


@hookimpl
def register_connectors(hub):
    return [ConnectorInfo(name=NAME, title="Haravan", kind="store")]
