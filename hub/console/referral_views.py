"""Referrals: the shop's terms (a form over the API's schema) and the referrals with their states.

The form saves through ``hub.referrals.terms.save_terms``, the list reads
``hub.referrals.listing.list_referrals``: the services ``/api/v1/referrals``
calls. Each side earns points or a voucher of one of the shop's rewards.
"""

from __future__ import annotations

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _
from marshmallow import ValidationError as SchemaError
from sqlalchemy import select

from hub.console.schema_forms import flat_errors
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.errors import ValidationError
from hub.models import Member
from hub.referrals.listing import STATUSES
from hub.referrals.listing import list_referrals
from hub.referrals.terms import ReferralTermsSchema
from hub.referrals.terms import get_terms
from hub.referrals.terms import save_terms
from hub.rewards.catalog import list_rewards

SHOWN = 200
SIDES = ("referrer", "friend")


def _page(status: int = 200, **extra):
    merchant_id = user().merchant_id
    wanted = request.args.get("status")
    wanted = wanted if wanted in STATUSES else None
    with current_hub().db.session() as session:
        terms = get_terms(session, merchant_id)
        rewards = [(r.id, r.name) for r in list_rewards(session, merchant_id, limit=SHOWN)]
        rows = list(reversed(list_referrals(session, merchant_id, status=wanted, limit=SHOWN)))
        ids = {r.referrer_id for r in rows} | {r.friend_id for r in rows}
        found = session.scalars(select(Member).where(Member.id.in_(ids))).all() if ids else []
        names = {m.id: m.name or m.code for m in found}
    return render(
        "console/referrals.html",
        status=status,
        terms=terms,
        rewards=rewards,
        sides=SIDES,
        referrals=rows,
        names=names,
        statuses=STATUSES,
        wanted=wanted,
        form=request.form if request.method == "POST" else {},
        **extra,
    )


@bp.get("/referrals")
@requires("manager")
def referrals():
    saved = request.args.get("done") == "saved"
    return _page(success=_("Referral terms saved.") if saved else None)


def _terms_from(form, reward_ids: set[str]) -> dict:
    """The terms the form asks for: per side, points or a voucher of the reward chosen."""
    body: dict = {"enabled": "enabled" in form}
    for name in ("hold_days", "monthly_limit"):
        if form.get(name, "").strip():
            body[name] = form[name].strip()
    missing = {}
    for side in SIDES:
        kind = form.get(f"{side}_kind", "points")
        value = form.get(f"{side}_reward_id" if kind == "voucher" else f"{side}_points", "")
        if not value.strip():
            missing[side] = [
                _("Choose the reward given as a voucher.")
                if kind == "voucher"
                else _("Give the points this side earns.")
            ]
            continue
        if kind == "voucher" and value.strip() not in reward_ids:
            missing[side] = [_("That reward is not in this shop any more; choose another.")]
            continue
        key = "reward_id" if kind == "voucher" else "points"
        body[side] = {"points": None, "reward_id": None, key: value.strip()}
    try:
        loaded = ReferralTermsSchema().load(body)
    except SchemaError as exc:
        missing = {**exc.messages, **missing}
    if missing:
        raise ValidationError(
            _("Some fields are not valid; see the list below."), details=missing
        ) from None
    return loaded


@bp.post("/referrals")
@requires("manager")
def save_referrals():
    merchant_id = user().merchant_id
    try:
        with current_hub().db.transaction() as session:
            rewards = list_rewards(session, merchant_id, limit=SHOWN)
            data = _terms_from(request.form, {str(r.id) for r in rewards})
            save_terms(session, merchant_id, data, actor=f"staff:{user().user_id}")
    except HubError as exc:
        return _page(status=exc.status, problem=exc.message, errors=flat_errors(exc.details))
    return redirect(url_for("console.referrals", done="saved"))
