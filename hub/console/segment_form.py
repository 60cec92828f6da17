"""The segment builder's form, turned into segment conditions (the JSON the API takes).

Each filled field adds one condition; ``match`` joins them with all or any.
What the form cannot say (other kinds, nested groups) the merchant writes as
JSON in the advanced box, which then replaces the fields; either way the
conditions go to the segment services, which decide what is valid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hub.errors import ValidationError


def _int(form: Mapping[str, str], name: str) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(
            f"{name}: write a whole number", details={name: ["not a whole number"]}
        ) from None


def _texts(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def conditions_from_form(form: Any) -> dict[str, Any]:
    """The conditions the builder's fields (or its advanced JSON) describe."""
    advanced = (form.get("advanced") or "").strip()
    if advanced:
        try:
            return json.loads(advanced)
        except ValueError as exc:
            raise ValidationError(
                f"the advanced conditions are not JSON: {exc}",
                details={"advanced": ["not JSON"]},
            ) from None
    items: list[dict[str, Any]] = []
    tier_ids = [int(value) for value in form.getlist("tier_ids") if value.isdigit()]
    if tier_ids:
        items.append({"kind": "tier", "tier_ids": tier_ids})
    if (points := _int(form, "points_min")) is not None:
        items.append({"kind": "points_balance", "min": points})
    if spent := (form.get("spent_min") or "").strip():
        items.append(_within({"kind": "total_spent", "min": spent}, _int(form, "spent_days")))
    if (orders := _int(form, "orders_min")) is not None:
        items.append(_within({"kind": "order_count", "min": orders}, _int(form, "orders_days")))
    if (lapsed := _int(form, "lapsed_days")) is not None:
        items.append({"kind": "last_order", "before_days": lapsed})
    if tags := _texts(form.get("tags")):
        items.append({"kind": "tags", "tags": tags})
    if channel := form.get("consent"):
        items.append({"kind": "consent", "channel": channel})
    if (month := _int(form, "birthday_month")) is not None:
        items.append({"kind": "birthday", "months": [month]})
    if provinces := _texts(form.get("provinces")):
        items.append({"kind": "location", "provinces": provinces})
    return {"any" if form.get("match") == "any" else "all": items}


def _within(condition: dict[str, Any], days: int | None) -> dict[str, Any]:
    return {**condition, "within_days": days} if days is not None else condition
