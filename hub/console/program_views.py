"""Program: earn rate, rounding, pending days, expiry and each plugin's earning rule.

"Preview" replays the latest real orders under the settings typed in, beside
what they earn today, and only then offers "Save"; saving is the service
``PUT /api/v1/program`` calls, so it makes a new program version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _

from hub.console.schema_forms import flat_errors
from hub.console.schema_forms import form_fields
from hub.console.schema_forms import read_fields
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.points.history_preview import preview_on_history
from hub.points.program import DEFAULT_SETTINGS
from hub.points.program import EXPIRY_POLICIES
from hub.points.program import ROUNDINGS
from hub.points.program import latest_version
from hub.points.program import program_rules
from hub.points.program import save_program


def _current() -> dict[str, Any]:
    """The latest saved version: its number, when, and its settings (defaults until saved)."""
    with current_hub().db.session() as session:
        row = latest_version(session, user().merchant_id)
        if row is None:
            return {"version": 0, "created_at": None, "settings": dict(DEFAULT_SETTINGS)}
        return {
            "version": row.version,
            "created_at": row.created_at,
            "settings": {**DEFAULT_SETTINGS, **row.settings},
        }


def _rules(settings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each installed rule with its form fields and whether the settings switch it on."""
    out = []
    for rule in sorted(program_rules(current_hub()).values(), key=lambda r: r.name):
        section = (settings.get("rules") or {}).get(rule.name)
        on = isinstance(section, Mapping) and section.get("enabled", True) is not False
        out.append(
            {
                "rule": rule,
                "on": on,
                "fields": form_fields(rule.schema, section) if rule.schema else [],
            }
        )
    return out


def settings_from_form(form: Mapping[str, str], current: Mapping[str, Any]) -> dict[str, Any]:
    """The program settings the form describes; settings the form does not show are kept."""
    settings = dict(current)
    settings.update(
        enabled="enabled" in form,
        earn_rate={"amount": form.get("earn_amount", ""), "points": form.get("earn_points", "")},
        rounding=form.get("rounding", ""),
        minimum_order=form.get("minimum_order", "") or "0",
        pending_days=form.get("pending_days", "") or "0",
        earn_on={"shipping": "earn_shipping" in form, "tax": "earn_tax" in form},
        expiry={
            "policy": form.get("expiry_policy", ""),
            "days": form.get("expiry_days") or None,
            "months": form.get("expiry_months") or None,
        },
    )
    rules = {}
    for rule in program_rules(current_hub()).values():
        if f"rule.{rule.name}" not in form:
            continue
        prefix = f"rule.{rule.name}."
        rules[rule.name] = read_fields(rule.schema, form, prefix) if rule.schema else {}
    settings["rules"] = rules
    return settings


def _page(settings: Mapping[str, Any], *, status: int = 200, **extra: Any):
    view = _current()
    return render(
        "console/program.html",
        status=status,
        version=view["version"],
        saved_at=view["created_at"],
        s=settings,
        rules=_rules(settings),
        roundings=ROUNDINGS,
        expiry_policies=EXPIRY_POLICIES,
        **extra,
    )


def _problem(exc: HubError) -> str:
    if exc.code == "validation_error" and isinstance(exc.details, Mapping):
        return _("Some settings are not valid; see the fields marked below.")
    return exc.message


@bp.get("/program")
@requires("manager")
def program():
    done = _("Saved as a new version: orders placed from now on earn by it.")
    return _page(_current()["settings"], success=done if request.args.get("done") else None)


@bp.post("/program")
@requires("manager")
def program_post():
    hub = current_hub()
    settings = _current()["settings"]
    try:
        settings = settings_from_form(request.form, settings)
        if request.form.get("action") == "save":
            with hub.db.transaction() as session:
                save_program(hub, session, user().merchant_id, settings, actor=_actor())
            return redirect(url_for("console.program", done="saved"))
        with hub.db.session() as session:
            preview = preview_on_history(hub, session, user().merchant_id, settings)
    except HubError as exc:
        if exc.status == 404:
            raise
        return _page(settings, status=422, problem=_problem(exc), errors=flat_errors(exc.details))
    return _page(settings, preview=preview, previewed=True)


def _actor() -> str:
    return f"staff:{user().user_id}"
