"""Campaigns: the list, the new-campaign form, and each campaign's estimate, controls and results.

The form is read into the API's body (``CampaignSchema``) and saved by the
services ``/api/v1/campaigns`` calls; a draft's edit form is the same form,
filled from the campaign and saved by the service ``PATCH`` calls. The
buttons call the same state changes, the estimate and the test send.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _

from hub import campaigns
from hub import segments
from hub.console.schema_forms import flat_errors
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.db import utcnow
from hub.errors import HubError
from hub.errors import ValidationError
from hub.messaging.gateways import CHANNELS
from hub.rewards.catalog import list_rewards

ACTIONS = {
    "schedule": campaigns.schedule_campaign,
    "pause": campaigns.pause_campaign,
    "resume": campaigns.resume_campaign,
    "cancel": campaigns.cancel_campaign,
}
DONE = {
    "created": lambda: _(
        "Campaign saved as a draft. Check the estimate, send a test, then schedule it."
    ),
    "edit": lambda: _("Draft saved. The estimate below counts it as it is now."),
    "schedule": lambda: _("Campaign scheduled."),
    "pause": lambda: _("Campaign paused: what was sent stays sent."),
    "resume": lambda: _("Campaign resumed."),
    "cancel": lambda: _("Campaign cancelled."),
    "test": lambda: _("Test message sent."),
}


def _actor() -> str:
    return f"staff:{user().user_id}"


def _local_moment(raw: str) -> datetime:
    """A ``datetime-local`` value, in the merchant's timezone, as an aware moment."""
    try:
        naive = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            _("Write the time as shown, for example 2026-12-24 09:00."),
            details={"schedule.at": [_("not a date and time")]},
        ) from None
    return naive.replace(tzinfo=ZoneInfo(user().timezone))


def body_from_form(form: Any) -> dict[str, Any]:
    """The API's campaign body from the form's fields."""
    body: dict[str, Any] = {"name": form.get("name", "").strip(), "channel": form.get("channel")}
    if form.get("audience") == "list":
        body["recipients"] = [
            line.strip() for line in form.get("recipients", "").splitlines() if line.strip()
        ]
    elif form.get("segment_id", "").isdigit():
        body["segment_id"] = int(form["segment_id"])
    body["templates"] = {
        loc: form[f"template_{loc}"].strip()
        for loc in ("vi", "en")
        if form.get(f"template_{loc}", "").strip()
    }
    if form.get("zalo_template_id", "").strip():
        body["zalo_template"] = {"template_id": form["zalo_template_id"].strip(), "params": {}}
    # An empty choice is sent as None, so editing a draft can take a voucher or budget away.
    reward = form.get("reward_id", "")
    body["reward_id"] = int(reward) if reward.isdigit() else None
    for name in ("holdout_percent", "attribution_days"):
        if form.get(name, "").strip():
            body[name] = form[name].strip()
    body["budget"] = form.get("budget", "").strip() or None
    kind = form.get("schedule_type", "now")
    schedule: dict[str, Any] = {"type": kind}
    if kind in ("at", "recurring") and form.get("send_at"):
        schedule["at"] = _local_moment(form["send_at"]).isoformat()
    if kind == "recurring" and form.get("every_days", "").strip():
        schedule["every_days"] = form["every_days"].strip()
    body["schedule"] = schedule
    return body


def form_from_campaign(campaign: Any) -> dict[str, str]:
    """The form's fields as a saved campaign fills them (times in the merchant's timezone)."""
    form = {
        "name": campaign.name,
        "audience": campaign.audience,
        "segment_id": str(campaign.segment_id or ""),
        "channel": campaign.channel,
        "zalo_template_id": (campaign.zalo_template or {}).get("template_id", ""),
        "reward_id": str(campaign.reward_id or ""),
        "holdout_percent": str(campaign.holdout_percent),
        "attribution_days": str(campaign.attribution_days),
        "budget": "" if campaign.budget is None else f"{campaign.budget.normalize():f}",
        "schedule_type": campaigns.schedule_of(campaign)["type"],
        "every_days": str(campaign.repeat_days or ""),
        "send_at": "",
    }
    for locale, text in (campaign.templates or {}).items():
        form[f"template_{locale}"] = text
    if campaign.send_at is not None:
        local = campaign.send_at.astimezone(ZoneInfo(user().timezone))
        form["send_at"] = local.strftime("%Y-%m-%dT%H:%M")
    return form


def _edit_draft(hub: Any, campaign_id: int) -> None:
    """Save the edit form over the draft, through the service the API's ``PATCH`` calls."""
    body = body_from_form(request.form)
    with hub.db.transaction() as session:
        campaign = campaigns.get_campaign(session, user().merchant_id, campaign_id, lock=True)
        saved_zalo = campaign.zalo_template or {}
        # The form names the ZNS template only; its parameters, set through the API, stay.
        chosen = body.get("zalo_template")
        if chosen and chosen["template_id"] == saved_zalo.get("template_id"):
            chosen["params"] = dict(saved_zalo.get("params") or {})
        data = campaigns.load_campaign(body)
        campaigns.update_campaign(hub, session, campaign, data, actor=_actor())


def _choices() -> dict[str, Any]:
    merchant_id = user().merchant_id
    with current_hub().db.session() as session:
        return {
            "segments": segments.list_segments(session, merchant_id),
            "rewards": [r for r in list_rewards(session, merchant_id, limit=500) if r.active],
            "channels": CHANNELS,
        }


def _campaigns_page(status: int = 200, **extra):
    with current_hub().db.session() as session:
        found = campaigns.list_campaigns(session, user().merchant_id)
    form = (
        request.form
        if request.method == "POST"
        else {"segment_id": request.args.get("segment_id", "")}
    )
    return render(
        "console/campaigns.html", status=status, campaigns=found, form=form, **_choices(), **extra
    )


@bp.get("/campaigns")
@requires("manager")
def campaigns_page():
    return _campaigns_page()


@bp.post("/campaigns")
@requires("manager")
def add_campaign():
    hub = current_hub()
    try:
        data = campaigns.load_campaign(body_from_form(request.form))
        with hub.db.transaction() as session:
            campaign = campaigns.create_campaign(
                hub, session, user().merchant_id, data, actor=_actor()
            )
            campaign_id = campaign.id
    except HubError as exc:
        return _campaigns_page(
            status=exc.status, problem=exc.message, errors=flat_errors(exc.details)
        )
    return redirect(url_for("console.campaign_page", campaign_id=campaign_id, done="created"))


def _campaign_page(campaign_id: int, status: int = 200, **extra):
    hub = current_hub()
    with hub.db.session() as session:
        campaign = campaigns.get_campaign(session, user().merchant_id, campaign_id)
        estimate = figures = None
        if campaign.state in ("draft", "scheduled", "paused"):
            try:
                estimate = campaigns.estimate(hub, session, campaign, utcnow())
            except HubError as exc:
                extra.setdefault("problem", exc.message)
        if campaign.run:
            figures = campaigns.results(session, campaign)
        segment = (
            segments.get_segment(session, campaign.merchant_id, campaign.segment_id)
            if campaign.segment_id
            else None
        )
    done = DONE.get(request.args.get("done", ""))
    extra.setdefault("success", done() if done else None)
    editing = request.method == "POST" and request.form.get("action") == "edit"
    return render(
        "console/campaign.html",
        status=status,
        campaign=campaign,
        segment=segment,
        estimate=estimate,
        figures=figures,
        current="campaigns",
        editing=editing,
        form=request.form if editing else form_from_campaign(campaign),
        **_choices(),
        **extra,
    )


@bp.get("/campaigns/<int:campaign_id>")
@requires("manager")
def campaign_page(campaign_id: int):
    return _campaign_page(campaign_id)


@bp.post("/campaigns/<int:campaign_id>")
@requires("manager")
def change_campaign(campaign_id: int):
    action = request.form.get("action", "")
    hub = current_hub()
    try:
        if action == "test":
            campaigns.send_test(
                hub,
                user().merchant_id,
                campaign_id,
                phone=request.form.get("phone", ""),
                actor=_actor(),
            )
        elif action == "edit":
            _edit_draft(hub, campaign_id)
        elif action in ACTIONS:
            ACTIONS[action](hub, user().merchant_id, campaign_id, actor=_actor())
        else:
            raise ValidationError(_("Unknown action."), details={"action": [action]})
    except HubError as exc:
        if exc.status == 404:
            raise
        return _campaign_page(
            campaign_id, status=exc.status, problem=exc.message, errors=flat_errors(exc.details)
        )
    return redirect(url_for("console.campaign_page", campaign_id=campaign_id, done=action))
