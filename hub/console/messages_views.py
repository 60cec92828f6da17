"""Messages: automatic kinds on or off, their templates with a live preview in vi and en
(and the SMS parts each costs), quiet hours, caps and budget; the message log.

Saving calls ``save_settings``, the service ``PUT /api/v1/messaging/settings``
calls; previews call the service behind ``POST /api/v1/messaging/preview``.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _

from hub.console.schema_forms import flat_errors
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.messaging.advertising import ZNS_TAGS
from hub.messaging.kinds import automatic_kinds
from hub.messaging.preview import preview
from hub.messaging.receipts import message_log
from hub.messaging.settings import get_settings
from hub.messaging.settings import save_settings
from hub.messaging.templates import LOCALES

STATUSES = ("queued", "held", "sending", "sent", "delivered", "failed", "skipped")


def _actor() -> str:
    return f"staff:{user().user_id}"


def _kinds(settings, drafts: dict[str, dict[str, str]] | None = None) -> list[dict[str, Any]]:
    hub = current_hub()
    rows = []
    with hub.db.session() as session:
        for name, kind in sorted(automatic_kinds(hub).items()):
            effective = settings.kind(kind)
            texts = {loc: effective.template(loc) for loc in LOCALES}
            texts.update((drafts or {}).get(name, {}))
            shown = {}
            for loc in LOCALES:
                try:
                    shown[loc] = preview(
                        hub, session, user().merchant_id, kind=name, locale=loc, template=texts[loc]
                    )
                except HubError as exc:
                    shown[loc] = {"problem": exc.message}
            zalo = {"template_id": effective.zalo_template_id, "tag": effective.zalo_tag}
            rows.append(
                {
                    "kind": kind,
                    "on": effective.enabled,
                    "texts": texts,
                    "preview": shown,
                    "zalo": zalo,
                }
            )
    return rows


def _page(status: int = 200, drafts=None, **extra):
    hub = current_hub()
    with hub.db.session() as session:
        settings = get_settings(session, user().merchant_id)
        log = message_log(session, user().merchant_id, status=request.args.get("status") or None)
    return render(
        "console/messages.html",
        status=status,
        s=settings.document,
        kinds=_kinds(settings, drafts),
        log=log,
        statuses=STATUSES,
        languages=LOCALES,
        zns_tags=ZNS_TAGS,
        **extra,
    )


@bp.get("/messages")
@requires("manager")
def messages():
    return _page(success=_("Saved.") if request.args.get("done") else None)


def document_from_form(document: dict[str, Any], form) -> dict[str, Any]:
    """The settings document with the form's answers applied; the rest kept as stored."""
    doc = copy.deepcopy(document)
    doc["quiet_hours"] = {
        "enabled": "quiet_enabled" in form,
        "start": form.get("quiet_start", "").strip(),
        "end": form.get("quiet_end", "").strip(),
    }
    doc["caps"] = {
        "per_day": form.get("per_day", "").strip() or None,
        "per_week": form.get("per_week", "").strip() or None,
    }
    doc["daily_budget"] = form.get("daily_budget", "").strip() or None
    doc["daily_limit"] = form.get("daily_limit", "").strip() or None
    if any(f"sms_opt_out.{loc}" in form for loc in LOCALES):
        # A language left empty takes the hub's default wording.
        wording = {loc: form.get(f"sms_opt_out.{loc}", "").strip() for loc in LOCALES}
        doc["sms_opt_out"] = {loc: text for loc, text in wording.items() if text}
    for name, kind in automatic_kinds(current_hub()).items():
        stored = dict(doc["kinds"].get(name) or {})
        stored["enabled"] = f"kind.{name}" in form
        templates = {}
        for loc in LOCALES:
            text = form.get(f"kind.{name}.{loc}", "").strip()
            default = kind.templates.get(loc, "")
            templates[loc] = text if text and text != default else None
        stored["templates"] = templates
        if f"kind.{name}.zns_id" in form:
            _zns_from_form(stored, form, name)
        doc["kinds"][name] = stored
    return doc


def _zns_from_form(stored: dict[str, Any], form, name: str) -> None:
    """The kind's ZNS template id and tag from the form; its parameters (API-set) stay."""
    template_id = form.get(f"kind.{name}.zns_id", "").strip()
    if not template_id:
        stored.pop("zalo_template", None)
        return
    zalo = dict(stored.get("zalo_template") or {})
    zalo["template_id"] = template_id
    zalo["tag"] = form.get(f"kind.{name}.zns_tag") or None
    stored["zalo_template"] = zalo


def _drafts(form) -> dict[str, dict[str, str]]:
    drafts: dict[str, dict[str, str]] = {}
    for name in automatic_kinds(current_hub()):
        for loc in LOCALES:
            text = form.get(f"kind.{name}.{loc}")
            if text is not None:
                drafts.setdefault(name, {})[loc] = text
    return drafts


@bp.post("/messages")
@requires("manager")
def messages_post():
    hub = current_hub()
    if request.form.get("action") == "preview":
        return _page(drafts=_drafts(request.form))
    try:
        with hub.db.transaction() as session:
            document = get_settings(session, user().merchant_id).document
            doc = document_from_form(document, request.form)
            save_settings(hub, session, user().merchant_id, doc, actor=_actor())
    except HubError as exc:
        return _page(
            status=422 if exc.status < 400 else exc.status,
            drafts=_drafts(request.form),
            problem=_("Some settings are not valid; see the list below."),
            errors=flat_errors(exc.details) or [("", exc.message)],
        )
    return redirect(url_for("console.messages", done="saved"))
