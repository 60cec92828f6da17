"""Cursor pagination: ``?limit=&cursor=`` in, ``{"data", "next_cursor"}`` out."""

from __future__ import annotations

import base64
from typing import Any

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate

from hub.errors import ValidationError as HubValidationError


class PageArgs(Schema):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.Str(load_default=None)


def decode_cursor(cursor: str | None) -> int | None:
    """Return the last id the previous page ended on."""
    if not cursor:
        return None
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (ValueError, UnicodeDecodeError):
        raise HubValidationError(
            "the cursor is not one this API gave out", details={"cursor": ["invalid cursor"]}
        ) from None
    return value


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def page(rows: list[Any], limit: int) -> dict[str, Any]:
    """Wrap one page; ``next_cursor`` is set only when the page is full."""
    next_cursor = encode_cursor(rows[-1].id) if len(rows) == limit else None
    return {"data": rows, "next_cursor": next_cursor}


_PAGE_SCHEMAS: dict[str, type[Schema]] = {}


def page_of(item: type[Schema]) -> type[Schema]:
    """Return (once) the schema of a page of ``item``."""
    name = f"{item.__name__.removesuffix('Schema')}PageSchema"
    if name not in _PAGE_SCHEMAS:
        _PAGE_SCHEMAS[name] = Schema.from_dict(
            {
                "data": fields.List(fields.Nested(item)),
                "next_cursor": fields.Str(allow_none=True),
            },
            name=name,
        )
    return _PAGE_SCHEMAS[name]


__all__ = ["PageArgs", "ValidationError", "decode_cursor", "page", "page_of"]
