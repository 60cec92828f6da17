"""Segments: the merchant's saved segments with their live counts, and the builder.

The builder's fields become segment conditions (``segment_form``); as the
merchant types, htmx asks ``/segments/preview`` for the count and a sample,
the same answer ``POST /api/v1/segments/preview`` gives.
"""

from __future__ import annotations

import json

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _

from hub import segments
from hub.console.schema_forms import flat_errors
from hub.console.segment_form import conditions_from_form
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.messaging.gateways import CHANNELS
from hub.tiers import list_tiers

#: Members a segment's page and the builder's preview show.
SAMPLE = 10

DONE = {
    "created": lambda: _("Segment saved."),
    "deleted": lambda: _("Segment deleted; campaigns already sent keep their recipients."),
}


def _segments_page(status: int = 200, **extra):
    merchant_id = user().merchant_id
    with current_hub().db.session() as session:
        saved = segments.list_segments(session, merchant_id)
        rows = [(s, segments.count_members(session, merchant_id, s.conditions)) for s in saved]
        tiers = list_tiers(session, merchant_id)
    done = DONE.get(request.args.get("done", ""))
    extra.setdefault("success", done() if done else None)
    return render(
        "console/segments.html",
        status=status,
        rows=rows,
        tiers=tiers,
        channels=CHANNELS,
        form=request.form if request.method == "POST" else {},
        **extra,
    )


@bp.get("/segments")
@requires("manager")
def segments_page():
    return _segments_page()


@bp.post("/segments")
@requires("manager")
def add_segment():
    try:
        data = {
            "name": (request.form.get("name") or "").strip(),
            "description": (request.form.get("description") or "").strip(),
            "conditions": conditions_from_form(request.form),
        }
        if not data["name"]:
            raise HubError(_("Give the segment a name."), details={"name": [_("required")]})
        with current_hub().db.transaction() as session:
            segments.create_segment(
                session, user().merchant_id, data, actor=f"staff:{user().user_id}"
            )
    except HubError as exc:
        return _segments_page(
            status=exc.status, problem=exc.message, errors=flat_errors(exc.details)
        )
    return redirect(url_for("console.segments_page", done="created"))


@bp.post("/segments/preview")
@requires("manager")
def segment_preview():
    """The builder's live count and sample (an htmx fragment)."""
    merchant_id = user().merchant_id
    try:
        conditions = conditions_from_form(request.form)
        with current_hub().db.session() as session:
            checked = segments.check_conditions(session, merchant_id, conditions)
            count = segments.count_members(session, merchant_id, checked)
            sample = segments.sample_members(session, merchant_id, checked, limit=SAMPLE)
    except HubError as exc:
        return render("console/_segment_preview.html", problem=exc.message, count=None)
    return render("console/_segment_preview.html", count=count, sample=sample)


@bp.get("/segments/<int:segment_id>")
@requires("manager")
def segment_page(segment_id: int):
    merchant_id = user().merchant_id
    with current_hub().db.session() as session:
        segment = segments.get_segment(session, merchant_id, segment_id)
        count = segments.count_members(session, merchant_id, segment.conditions)
        sample = segments.sample_members(session, merchant_id, segment.conditions, limit=SAMPLE)
    return render(
        "console/segment.html",
        segment=segment,
        count=count,
        sample=sample,
        conditions=json.dumps(segment.conditions, ensure_ascii=False, indent=2),
        current="segments",
    )


@bp.post("/segments/<int:segment_id>")
@requires("manager")
def delete_segment_page(segment_id: int):
    with current_hub().db.transaction() as session:
        segment = segments.get_segment(session, user().merchant_id, segment_id)
        segments.delete_segment(session, segment, actor=f"staff:{user().user_id}")
    return redirect(url_for("console.segments_page", done="deleted"))
