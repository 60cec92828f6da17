"""What plugins register at startup: connectors and their descriptions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectorInfo:
    """A connector a merchant can create connections for.

    ``kind`` is one of ``store``, ``pos``, ``messaging`` or ``custom``.
    """

    name: str
    title: str
    kind: str = "store"
    description: str = ""
