"""Tiers: the ladder with how many members stand on each rung; add, edit, move, delete.

Forms load through the API's own body schema (``TierInSchema``) and call the
services ``/api/v1/tiers`` calls; after a change the members are re-evaluated
by the same background job.
"""

from __future__ import annotations

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _

from hub.api.tiers import TierInSchema
from hub.api.tiers import reevaluate_after
from hub.console.schema_forms import flat_errors
from hub.console.schema_forms import load_form
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.tiers import BASES
from hub.tiers import WINDOWS
from hub.tiers import create_tier
from hub.tiers import delete_tier
from hub.tiers import get_tier
from hub.tiers import list_tiers
from hub.tiers import members_per_tier
from hub.tiers import move_tier
from hub.tiers import update_tier

DONE = {
    "created": lambda: _("Tier added; members who qualify move up in the background."),
    "saved": lambda: _("Tier saved; members who now qualify move up in the background."),
    "moved": lambda: _("Tier moved."),
    "deleted": lambda: _("Tier deleted; its members moved to the best tier they qualify for."),
}


def _actor() -> str:
    return f"staff:{user().user_id}"


def _tiers_page(status: int = 200, **extra):
    with current_hub().db.session() as session:
        ladder = list_tiers(session, user().merchant_id)
        counts = members_per_tier(session, user().merchant_id)
    done = DONE.get(request.args.get("done", ""))
    extra.setdefault("success", done() if done else None)
    return render(
        "console/tiers.html",
        status=status,
        ladder=list(reversed(ladder)),
        counts=counts,
        bases=BASES,
        windows=WINDOWS,
        form=request.form if request.method == "POST" else {},
        **extra,
    )


def _refused(exc: HubError, page):
    if exc.status == 404:
        raise exc
    return page(status=exc.status, problem=exc.message, errors=flat_errors(exc.details))


@bp.get("/tiers")
@requires("manager")
def tiers():
    return _tiers_page()


@bp.post("/tiers")
@requires("manager")
def add_tier():
    try:
        data = load_form(TierInSchema(), request.form)
        with current_hub().db.transaction() as session:
            create_tier(session, user().merchant_id, data, actor=_actor())
            reevaluate_after(session, user().merchant_id)
    except HubError as exc:
        return _refused(exc, _tiers_page)
    return redirect(url_for("console.tiers", done="created"))


def _tier_page(tier_id: int, status: int = 200, **extra):
    with current_hub().db.session() as session:
        tier = get_tier(session, user().merchant_id, tier_id)
        count = members_per_tier(session, user().merchant_id).get(tier.id, 0)
    return render(
        "console/tier.html",
        status=status,
        tier=tier,
        count=count,
        bases=BASES,
        windows=WINDOWS,
        **extra,
    )


@bp.get("/tiers/<int:tier_id>")
@requires("manager")
def tier(tier_id: int):
    return _tier_page(tier_id)


@bp.post("/tiers/<int:tier_id>")
@requires("manager")
def change_tier(tier_id: int):
    hub = current_hub()
    action = request.form.get("action", "save")
    try:
        data = load_form(TierInSchema(partial=True), request.form) if action == "save" else {}
        with hub.db.transaction() as session:
            found = get_tier(session, user().merchant_id, tier_id)
            if action == "delete":
                delete_tier(hub, session, found, actor=_actor())
            elif action in ("up", "down"):
                move_tier(session, found, 1 if action == "up" else -1, actor=_actor())
            else:
                update_tier(session, found, data, actor=_actor())
            reevaluate_after(session, user().merchant_id)
    except HubError as exc:
        if action == "save":
            return _refused(exc, lambda **kw: _tier_page(tier_id, **kw))
        return _refused(exc, _tiers_page)
    done = {"delete": "deleted", "up": "moved", "down": "moved"}.get(action, "saved")
    return redirect(url_for("console.tiers", done=done))
