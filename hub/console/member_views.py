"""A member's profile and its actions: points, rewards, tier, contact, consent, merge, erase.

Each action calls the service the REST API calls, then redirects back to the
profile with the outcome (post/redirect/get); a refusal shows on the profile.
"""

from __future__ import annotations

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _

from hub.api.points import points_view
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.errors import ValidationError
from hub.members.directory import CHANNELS
from hub.members.directory import consents_of
from hub.members.directory import erase_member
from hub.members.directory import get_member
from hub.members.directory import identities_of
from hub.members.directory import update_member
from hub.members.merges import merge_members
from hub.models import PointEntry
from hub.points.earning import adjust_points
from hub.rewards.catalog import get_reward
from hub.rewards.catalog import list_rewards
from hub.rewards.catalog import redeem
from hub.rewards.vouchers import member_vouchers
from hub.tiers import current_tier
from hub.tiers import list_tiers
from hub.tiers.membership import end_override
from hub.tiers.membership import override_tier
from hub.tiers.membership import tier_history

DONE = {
    "adjusted": lambda: _("Points adjusted."),
    "redeemed": lambda: _("Reward issued: the voucher is in the list below."),
    "tier": lambda: _("Tier changed."),
    "contact": lambda: _("Contact details saved."),
    "consent": lambda: _("Consent recorded, with who recorded it, when and how."),
    "merged": lambda: _("Members merged."),
}


def _actor() -> str:
    return f"staff:{user().user_id}"


def _ledger_rows(session, member_id: int, balance: int, limit: int = 50) -> list[tuple]:
    """The newest entries, each with the balance right after it (running balance)."""
    from sqlalchemy import select

    entries = list(
        session.scalars(
            select(PointEntry)
            .where(PointEntry.member_id == member_id)
            .order_by(PointEntry.id.desc())
            .limit(limit)
        )
    )
    rows = []
    for entry in entries:
        rows.append((entry, balance))
        balance -= entry.points
    return rows


def _profile(member_id: int, *, status: int = 200, problem: str | None = None, **extra):
    me = user()
    with current_hub().db.session() as session:
        member = get_member(session, me.merchant_id, member_id)
        context = {
            "member": member,
            "points": points_view(session, member.id),
            "tier": current_tier(session, member),
            "tier_history": tier_history(session, member.id, limit=10),
            "tiers": list_tiers(session, me.merchant_id),
            "rewards": list_rewards(session, me.merchant_id, active=True),
            "vouchers": member_vouchers(session, member.id, limit=50),
            "identities": identities_of(session, member.id),
            "consents": {c.channel: c for c in consents_of(session, member.id)},
            "ledger_rows": _ledger_rows(session, member.id, member.points_balance),
        }
    done = DONE.get(request.args.get("done", ""))
    return render(
        "console/member.html",
        status=status,
        problem=problem,
        success=done() if done else None,
        channels=CHANNELS,
        **context,
        **extra,
    )


@bp.get("/members/<int:member_id>")
@requires("manager")
def member(member_id: int):
    return _profile(member_id)


def _act(member_id: int, done: str, action) -> object:
    """Run ``action(hub, session, member)`` in one transaction; show a refusal on the profile."""
    hub = current_hub()
    try:
        with hub.db.transaction() as session:
            action(hub, session, get_member(session, user().merchant_id, member_id))
    except HubError as exc:
        if exc.status == 404:
            raise
        return _profile(
            member_id, status=exc.status if exc.status >= 400 else 422, problem=_refusal(exc)
        )
    return redirect(url_for("console.member", member_id=member_id, done=done))


def _refusal(exc: HubError) -> str:
    known = {
        "insufficient_points": _("The member does not have that many points."),
        "out_of_stock": _("This reward is out of stock."),
        "redemption_limit_reached": _("The member has reached this reward's limit."),
        "duplicate_phone": _("Another member already has this phone number."),
        "duplicate_email": _("Another member already has this email."),
    }
    return known.get(exc.code, exc.message)


def _number(field: str) -> int:
    try:
        return int(request.form.get(field, "").strip())
    except ValueError:
        raise ValidationError(_("Enter a whole number."), details={field: ["number"]}) from None


@bp.post("/members/<int:member_id>/adjust")
@requires("manager")
def adjust(member_id: int):
    points, reason = _number_or_none("points"), request.form.get("reason", "").strip()[:500]

    def action(hub, session, member):
        if points is None or points == 0:
            raise ValidationError(_("Enter the points to add (or, with a minus, to remove)."))
        if not reason:
            raise ValidationError(_("Say why: the reason is kept with the change."))
        adjust_points(hub, session, member, points, reason=reason, actor=_actor())

    return _act(member_id, "adjusted", action)


def _number_or_none(field: str) -> int | None:
    try:
        return _number(field)
    except ValidationError:
        return None


@bp.post("/members/<int:member_id>/redeem")
@requires("manager")
def issue_reward(member_id: int):
    reward_id = _number_or_none("reward_id") or 0

    def action(hub, session, member):
        redeem(
            hub, session, member, get_reward(session, member.merchant_id, reward_id), actor=_actor()
        )

    return _act(member_id, "redeemed", action)


@bp.post("/members/<int:member_id>/tier")
@requires("manager")
def set_tier(member_id: int):
    tier_id = _number_or_none("tier_id")

    def action(hub, session, member):
        if tier_id is None:
            end_override(hub, session, member, actor=_actor(), note="lifted")
            return
        from hub.tiers import get_tier

        tier = get_tier(session, member.merchant_id, tier_id)
        override_tier(
            session,
            member,
            tier,
            until=None,
            note=request.form.get("note", "")[:200],
            actor=_actor(),
        )

    return _act(member_id, "tier", action)


@bp.post("/members/<int:member_id>/contact")
@requires("manager")
def contact(member_id: int):
    form = request.form
    changes = {
        "name": form.get("name", "").strip()[:200],
        "phone": form.get("phone", "").strip() or None,
        "email": form.get("email", "").strip() or None,
        "province": form.get("province", "").strip()[:100] or None,
    }
    region = current_hub().config["HUB_DEFAULT_REGION"]

    def action(hub, session, member):
        update_member(session, member, changes, region=region, source="console", actor=_actor())

    return _act(member_id, "contact", action)


@bp.post("/members/<int:member_id>/consent")
@requires("manager")
def record_consent(member_id: int):
    """Record a consent given or withdrawn on one channel, as ``PATCH /members`` does.

    Nothing is chosen in advance: staff pick the channel and the member's
    answer, and a consent given needs what the member agreed to, so it can
    be shown later.
    """
    form = request.form
    channel, answer = form.get("channel", ""), form.get("answer", "")
    evidence = form.get("evidence", "").replace("\x00", "").strip()[:500]
    if channel not in CHANNELS or answer not in ("granted", "withdrawn"):
        return _profile(
            member_id,
            status=422,
            problem=_("Choose the channel and whether the member agrees or withdraws."),
        )
    if answer == "granted" and not evidence:
        return _profile(
            member_id,
            status=422,
            problem=_(
                "Write what the member agreed to and where (the form's wording, a paper form's "
                "number): a consent must be shown later."
            ),
        )
    changes = {"consents": {channel: answer == "granted"}, "consent_evidence": evidence or None}

    def action(hub, session, member):
        update_member(session, member, changes, source="console", actor=_actor())

    return _act(member_id, "consent", action)


@bp.get("/members/<int:member_id>/merge")
@requires("manager")
def merge_preview(member_id: int):
    """Show both members and what the survivor will hold, before merging."""
    other_id = _int_arg("other")
    if other_id is None or other_id == member_id:
        return _profile(member_id, status=422, problem=_("Enter the id of another member."))
    me = user()
    with current_hub().db.session() as session:
        survivor = get_member(session, me.merchant_id, member_id)
        other = get_member(session, me.merchant_id, other_id)
        result = {
            "name": survivor.name or other.name,
            "phone": survivor.phone or other.phone,
            "email": survivor.email or other.email,
            "points": survivor.points_balance + other.points_balance,
            "spent": survivor.total_spent + other.total_spent,
            "tags": sorted(set(survivor.tags or []) | set(other.tags or [])),
            "identities": len(identities_of(session, survivor.id))
            + len(identities_of(session, other.id)),
        }
    return render("console/merge.html", survivor=survivor, other=other, result=result)


def _int_arg(name: str) -> int | None:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return None


@bp.post("/members/<int:member_id>/merge")
@requires("manager")
def merge(member_id: int):
    other_id = _number_or_none("other") or 0

    def action(hub, session, member):
        merge_members(hub, session, member.merchant_id, member.id, other_id, actor=_actor())

    return _act(member_id, "merged", action)


@bp.post("/members/<int:member_id>/erase")
@requires("manager")
def erase(member_id: int):
    hub = current_hub()
    with hub.db.transaction() as session:
        erase_member(session, get_member(session, user().merchant_id, member_id), actor=_actor())
    return redirect(url_for("console.members", done="erased"))
