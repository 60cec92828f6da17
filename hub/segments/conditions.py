"""Segment conditions as data: the kinds, the context they compile in, and loading a tree.

A segment's conditions are JSON: a group ``{"all": [...]}`` or
``{"any": [...]}`` whose items are conditions (``{"kind": "tier", ...}``)
or groups of conditions (one level of nesting). Each kind is a
``SegmentCondition``: a marshmallow schema for its fields and a function
that turns the loaded fields into a SQL boolean over ``members``. Kinds come
from the ``register_segment_conditions`` hook; the core's own are a built-in
plugin (``hub.segments.builtin``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from sqlalchemy import ColumnElement

if TYPE_CHECKING:
    from hub.core import Hub

GROUPS = ("all", "any")
#: Conditions a group may hold; the builder and the API refuse more.
MAX_ITEMS = 50


@dataclass(frozen=True)
class SegmentContext:
    """What a condition compiles against: the merchant, the database, and local time.

    ``now`` is the moment the segment is evaluated (UTC); ``today`` is that
    moment's date in the merchant's timezone, which "the last N days" and
    birthdays count from.
    """

    merchant_id: int
    dialect: str
    now: datetime
    timezone: str

    @property
    def today(self) -> date:
        return self.now.astimezone(ZoneInfo(self.timezone)).date()

    def day_start(self, day: date) -> datetime:
        """The first moment of the merchant's local ``day``, in UTC."""
        return datetime.combine(day, time(), ZoneInfo(self.timezone)).astimezone(UTC)

    def window_start(self, days: int) -> datetime:
        """The start of "the last ``days`` days": local midnight ``days - 1`` days before today."""
        return self.day_start(self.today - timedelta(days=days - 1))


@dataclass(frozen=True)
class SegmentCondition:
    """One kind of condition a segment may use.

    ``schema`` loads and checks the condition's fields (everything but
    ``kind``); ``compile(context, fields)`` returns a SQL boolean over
    ``hub.models.Member`` built with SQLAlchemy Core, which must hold on
    PostgreSQL and SQLite and filter any table it reads on
    ``context.merchant_id``. ``references`` names fields holding ids of the
    merchant's rows (``"tier_ids": "tiers"``), checked before saving.
    """

    name: str
    title: str
    schema: type[Schema]
    compile: Callable[[SegmentContext, dict[str, Any]], ColumnElement[bool]]
    references: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Condition:
    """A loaded condition: its kind and its fields as the kind's schema loaded them."""

    kind: SegmentCondition
    fields: dict[str, Any]


@dataclass(frozen=True)
class Group:
    """A loaded group: ``all`` (every item holds) or ``any`` (at least one does)."""

    op: str
    items: list[Condition | Group]


def condition_kinds(hub: Hub) -> dict[str, SegmentCondition]:
    """Every registered kind by name; two plugins may not register one name."""
    state = hub.app.extensions.setdefault("segments", {})
    if "kinds" not in state:
        kinds: dict[str, SegmentCondition] = {}
        for result in hub.pm.hook.register_segment_conditions(hub=hub):
            for kind in result or []:
                if kind.name in kinds:
                    raise ValueError(f"two plugins register the segment condition {kind.name!r}")
                kinds[kind.name] = kind
        state["kinds"] = kinds
    return state["kinds"]


def load_group(kinds: dict[str, SegmentCondition], data: Any) -> Group:
    """Load a conditions tree; raise marshmallow's ``ValidationError`` keyed by path.

    Paths read like ``all[1].any[0].within_days``.
    """
    errors: dict[str, list[str]] = {}
    group = _group(kinds, data, "", depth=0, errors=errors)
    if errors or group is None:
        raise SchemaError(errors or {"": ["conditions are missing"]})
    return group


def dump_group(group: Group) -> dict[str, Any]:
    """The JSON of a loaded tree, each condition's fields as its schema dumps them."""
    items = []
    for item in group.items:
        if isinstance(item, Group):
            items.append(dump_group(item))
        else:
            items.append({"kind": item.kind.name, **item.kind.schema().dump(item.fields)})
    return {group.op: items}


def _group(
    kinds: dict[str, SegmentCondition],
    data: Any,
    path: str,
    *,
    depth: int,
    errors: dict[str, list[str]],
) -> Group | None:
    where = path or "conditions"
    if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in GROUPS:
        errors[where] = ['a group is an object with one key, "all" or "any", holding a list']
        return None
    op, items = next(iter(data.items()))
    if not isinstance(items, list):
        errors[where] = [f'"{op}" holds a list of conditions']
        return None
    if not items and (depth > 0 or op == "any"):
        errors[where] = [f'"{op}" needs at least one condition']
        return None
    if len(items) > MAX_ITEMS:
        errors[where] = [f"a group holds at most {MAX_ITEMS} conditions"]
        return None
    loaded: list[Condition | Group] = []
    for index, item in enumerate(items):
        item_path = f"{path}.{op}[{index}]" if path else f"{op}[{index}]"
        if isinstance(item, dict) and "kind" not in item and depth == 0:
            sub = _group(kinds, item, item_path, depth=1, errors=errors)
        else:
            sub = _condition(kinds, item, item_path, errors)
        if sub is not None:
            loaded.append(sub)
    return Group(op, loaded)


def _condition(
    kinds: dict[str, SegmentCondition], data: Any, path: str, errors: dict[str, list[str]]
) -> Condition | None:
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        errors[path] = [
            'a condition is an object with a "kind" (groups nest one level: '
            "a group inside a group holds conditions only)"
        ]
        return None
    kind = kinds.get(data["kind"])
    if kind is None:
        known = ", ".join(sorted(kinds))
        errors[f"{path}.kind"] = [f"{data['kind']!r} is not a segment condition; known: {known}"]
        return None
    fields = {key: value for key, value in data.items() if key != "kind"}
    try:
        return Condition(kind, kind.schema().load(fields))
    except SchemaError as exc:
        for key, messages in _flatten(exc.messages).items():
            errors[f"{path}.{key}" if key else path] = messages
        return None


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, list):
        return {prefix: [str(message) for message in messages]}
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = str(key) if key != "_schema" else ""
            flat.update(_flatten(value, f"{prefix}.{name}".strip(".")))
        return flat
    return {prefix: [str(messages)]}
