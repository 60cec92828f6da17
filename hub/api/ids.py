"""Ids in URLs as the OpenAPI document shows them.

``<int:...>`` is bounded to what a BIGINT (PostgreSQL) or an INTEGER (SQLite)
column holds by ``hub.input_guard``; a larger number matches no route (404).
"""

from __future__ import annotations

from typing import Any

from hub.input_guard import Int64Converter


def id_parameter_schema(converter: Int64Converter) -> dict[str, Any]:
    """How an id path parameter appears in the OpenAPI document."""
    return {"type": "integer", "minimum": 0, "maximum": converter.max}
