"""Ids in URLs: a number the databases can hold, or no route at all (404)."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

#: The largest id a BIGINT (PostgreSQL) or an INTEGER (SQLite) column holds.
MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in the hub's routes: 0 to ``MAX_ID``; a larger number matches no route."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def id_parameter_schema(converter: IdConverter) -> dict[str, Any]:
    """How an id path parameter appears in the OpenAPI document."""
    return {"type": "integer", "minimum": 0, "maximum": converter.max}
