"""Form fields drawn from a marshmallow schema, and the form's answers read back.

A plugin's earning rule brings its settings schema; the program page shows one
field per schema field: a checkbox for a boolean, a number box for a number, a
date box for a date, a list to choose from for a string with fixed choices, a
text box for other strings, and a JSON box for lists and nested sections. The
answers go back to the schema (through the program's service), which decides
what is valid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from marshmallow import fields
from marshmallow import validate

from hub.console.dates import read_day
from hub.errors import ValidationError

#: Field names plugins' schemas commonly use, as people read them.
FIELD_LABELS = {
    "enabled": _l("On"),
    "points": _l("Points"),
    "multiplier": _l("Multiplier"),
    "periods": _l("Periods"),
    "items": _l("Products"),
    "days": _l("Days"),
    "amount": _l("Amount"),
    "name": _l("Name"),
}


@dataclass(frozen=True)
class FormField:
    name: str
    kind: str  # checkbox, number, date, select, text, json
    label: str
    required: bool
    choices: tuple[str, ...] = ()
    value: Any = None


def _kind(field: fields.Field) -> tuple[str, tuple[str, ...]]:
    if isinstance(field, fields.Bool):
        return "checkbox", ()
    if isinstance(field, fields.Number):
        return "number", ()
    if isinstance(field, fields.Date):
        return "date", ()
    if isinstance(field, fields.Str):
        for rule in field.validators:
            if isinstance(rule, validate.OneOf):
                return "select", tuple(str(c) for c in rule.choices)
        return "text", ()
    return "json", ()


def form_fields(
    schema: type[Schema], values: Mapping[str, Any] | None, skip: tuple[str, ...] = ("enabled",)
) -> list[FormField]:
    """One field per schema field (by its data key) but ``skip``, filled with ``values``."""
    values = values or {}
    out = []
    for name, field in schema().fields.items():
        key = field.data_key or name
        if key in skip:
            continue
        kind, choices = _kind(field)
        value = values.get(key)
        if kind == "json" and value is not None and not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False, default=str)
        out.append(
            FormField(
                name=key,
                kind=kind,
                label=str(FIELD_LABELS.get(key, key.replace("_", " ").capitalize())),
                required=bool(field.required),
                choices=choices,
                value=value,
            )
        )
    return out


def read_fields(schema: type[Schema], form: Mapping[str, str], prefix: str) -> dict[str, Any]:
    """The section the form's ``<prefix><field>`` answers make; blanks are left out.

    :raise ValidationError: a JSON box does not hold JSON, a date box no day.
    """
    section: dict[str, Any] = {}
    for field in form_fields(schema, None):
        raw = form.get(prefix + field.name)
        if field.kind == "checkbox":
            section[field.name] = raw is not None
            continue
        if raw is None or not raw.strip():
            continue
        if field.kind == "json":
            try:
                section[field.name] = json.loads(raw)
            except ValueError:
                raise ValidationError(
                    _("%(field)s is not valid JSON.", field=field.label),
                    details={field.name: ["JSON"]},
                ) from None
        elif field.kind == "date":
            section[field.name] = read_day(raw, field=field.name).isoformat()
        else:
            section[field.name] = raw.strip()
    return section


def flat_errors(details: Any, path: str = "") -> list[tuple[str, str]]:
    """``{"earn_rate": {"amount": ["..."]}}`` as ``[("earn_rate.amount", "...")]``."""
    if isinstance(details, Mapping):
        out = []
        for key, inner in details.items():
            out += flat_errors(inner, f"{path}.{key}" if path else str(key))
        return out
    if isinstance(details, list | tuple):
        return [pair for item in details for pair in flat_errors(item, path)]
    return [(path, str(details))]


def load_form(
    schema: Schema, form: Mapping[str, str], *, checkboxes: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Load a page's form with the API's body schema: blanks are null, checkboxes booleans.

    :raise ValidationError: the schema refuses the form, with its messages as details.
    """
    data: dict[str, Any] = {name: name in form for name in checkboxes}
    for name in schema.fields:
        if name in checkboxes or name not in form:
            continue
        value = form[name].strip()
        data[name] = value or None
    try:
        return schema.load({k: v for k, v in data.items() if v is not None or _nullable(schema, k)})
    except SchemaError as exc:
        raise ValidationError(
            _("Some fields are not valid; see the list below."), details=exc.messages
        ) from None


def _nullable(schema: Schema, name: str) -> bool:
    return bool(schema.fields[name].allow_none)


def plain(value: Decimal | int | None) -> str:
    """A number as a form field takes it back: ``2000000.0000`` as ``2000000``."""
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f}"
