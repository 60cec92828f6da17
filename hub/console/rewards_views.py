"""Rewards: the catalog with how often each reward was redeemed; add, edit, switch on and off.

Forms load through the API's body schema (``RewardInSchema``) and call the
services ``/api/v1/rewards`` calls.
"""

from __future__ import annotations

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _

from hub.api.rewards import RewardInSchema
from hub.console.schema_forms import flat_errors
from hub.console.schema_forms import load_form
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.rewards.catalog import KINDS
from hub.rewards.catalog import create_reward
from hub.rewards.catalog import get_reward
from hub.rewards.catalog import list_rewards
from hub.rewards.catalog import redemptions_per_reward
from hub.rewards.catalog import update_reward
from hub.tiers import list_tiers

#: The catalog page lists this many rewards; more is far beyond a shop's catalog.
CATALOG_LIMIT = 500

DONE = {
    "created": lambda: _("Reward added."),
    "saved": lambda: _("Reward saved; vouchers already issued keep their terms."),
    "on": lambda: _("Reward switched on: members can redeem it."),
    "off": lambda: _("Reward switched off: members can no longer redeem it."),
}


def _actor() -> str:
    return f"staff:{user().user_id}"


def _context() -> dict:
    with current_hub().db.session() as session:
        return {
            "tiers": list_tiers(session, user().merchant_id),
            "counts": redemptions_per_reward(session, user().merchant_id),
        }


def _rewards_page(status: int = 200, **extra):
    with current_hub().db.session() as session:
        rewards = list_rewards(session, user().merchant_id, limit=CATALOG_LIMIT)
    done = DONE.get(request.args.get("done", ""))
    extra.setdefault("success", done() if done else None)
    return render(
        "console/rewards.html",
        status=status,
        rewards=rewards,
        kinds=KINDS,
        form=request.form if request.method == "POST" else {},
        **_context(),
        **extra,
    )


@bp.get("/rewards")
@requires("manager")
def rewards():
    return _rewards_page()


@bp.post("/rewards")
@requires("manager")
def add_reward():
    try:
        data = load_form(RewardInSchema(), request.form, checkboxes=("active",))
        with current_hub().db.transaction() as session:
            create_reward(session, user().merchant_id, data, actor=_actor())
    except HubError as exc:
        return _rewards_page(
            status=exc.status, problem=exc.message, errors=flat_errors(exc.details)
        )
    return redirect(url_for("console.rewards", done="created"))


def _reward_page(reward_id: int, status: int = 200, **extra):
    with current_hub().db.session() as session:
        reward = get_reward(session, user().merchant_id, reward_id)
    return render(
        "console/reward.html", status=status, reward=reward, kinds=KINDS, **_context(), **extra
    )


@bp.get("/rewards/<int:reward_id>")
@requires("manager")
def reward(reward_id: int):
    return _reward_page(reward_id)


@bp.post("/rewards/<int:reward_id>")
@requires("manager")
def change_reward(reward_id: int):
    action = request.form.get("action", "save")
    try:
        if action in ("on", "off"):
            data = {"active": action == "on"}
        else:
            data = load_form(RewardInSchema(partial=True), request.form, checkboxes=("active",))
        with current_hub().db.transaction() as session:
            found = get_reward(session, user().merchant_id, reward_id)
            update_reward(session, found, data, actor=_actor())
    except HubError as exc:
        if exc.status == 404:
            raise
        page = _reward_page if action == "save" else (lambda _id, **kw: _rewards_page(**kw))
        return page(
            reward_id, status=exc.status, problem=exc.message, errors=flat_errors(exc.details)
        )
    return redirect(url_for("console.rewards", done=action if action in ("on", "off") else "saved"))
