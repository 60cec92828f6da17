"""Settings: staff users (invite, role, reset link, disable) and API keys (create, revoke)."""

from __future__ import annotations

from flask import request
from flask_babel import force_locale
from flask_babel import gettext as _

from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.merchants.accounts import create_api_key
from hub.merchants.accounts import list_api_keys
from hub.merchants.accounts import revoke_api_key
from hub.merchants.staff import ROLES
from hub.merchants.staff import change_role
from hub.merchants.staff import create_staff_user
from hub.merchants.staff import disable_staff
from hub.merchants.staff import get_staff
from hub.merchants.staff import issue_link
from hub.merchants.staff import list_staff
from hub.staff_reset import ResetNotice
from hub.staff_reset import send_reset_link


def link_url(token: str) -> str:
    """The link's full URL on this hub, as a person opens it."""
    return request.host_url.rstrip("/") + f"/console/link/{token}"


def _actor() -> str:
    return f"staff:{user().user_id}"


def _staff_page(status: int = 200, **extra):
    with current_hub().db.session() as session:
        people = list_staff(session, user().merchant_id)
    return render("console/staff.html", status=status, people=people, roles=ROLES, **extra)


@bp.get("/settings/staff")
@requires("owner")
def staff():
    return _staff_page()


@bp.post("/settings/staff")
@requires("owner")
def invite():
    form = request.form
    try:
        with current_hub().db.transaction() as session:
            person = create_staff_user(
                session,
                user().merchant_id,
                form.get("email", ""),
                form.get("role", ""),
                name=form.get("name", ""),
                actor=_actor(),
            )
            token = issue_link(session, person, "invite")
            email = person.email
    except HubError as exc:
        problem = (
            _("This email already has a staff account.")
            if exc.code == "duplicate_email"
            else exc.message
        )
        return _staff_page(status=422, problem=problem)
    return _staff_page(
        success=_(
            "Invitation ready. Send this link to %(email)s; it works once, for 7 days.", email=email
        ),
        link=link_url(token),
    )


def _reset_notice(token: str, locale: str) -> ResetNotice:
    """The reset message in the person's language, around their link."""
    with force_locale(locale):
        return ResetNotice(
            subject=_("%(shop)s: set a new password", shop=user().merchant_name),
            text=_(
                "Set a new password for %(shop)s's console: %(link)s (the link works once, "
                "for 2 hours).",
                shop=user().merchant_name,
                link=link_url(token),
            ),
        )


#: The staff page's buttons that send the reset link, and the channel each uses.
SEND_ACTIONS = {"send_email": "email", "send_sms": "sms"}


@bp.post("/settings/staff/<int:user_id>")
@requires("owner")
def change_staff(user_id: int):
    what = request.form.get("action")
    if what in SEND_ACTIONS:
        return _send_reset(user_id, SEND_ACTIONS[what])
    link = None
    try:
        with current_hub().db.transaction() as session:
            person = get_staff(session, user().merchant_id, user_id)
            if what == "role":
                change_role(session, person, request.form.get("role", ""), actor=_actor())
            elif what == "disable":
                disable_staff(session, person, actor=_actor())
            elif what == "reset":
                link = link_url(issue_link(session, person, "reset"))
    except HubError as exc:
        if exc.status == 404:
            raise
        problem = (
            _("The shop needs at least one owner: make someone else owner first.")
            if exc.code == "last_owner"
            else exc.message
        )
        return _staff_page(status=409, problem=problem)
    message = _("Password reset link ready; it works once, for 2 hours.") if link else _("Saved.")
    return _staff_page(success=message, link=link)


def _send_reset(user_id: int, channel: str):
    try:
        sent = send_reset_link(
            current_hub(), user().merchant_id, user_id, channel=channel, compose=_reset_notice,
            phone=request.form.get("phone", "")[:40], actor=_actor(),
        )  # fmt: skip
    except HubError as exc:
        if exc.status == 404:
            raise
        return _staff_page(status=exc.status, problem=_reset_problem(exc))
    return _staff_page(
        success=_("Password reset link sent to %(to)s; it works once, for 2 hours.", to=sent.to)
    )


def _reset_problem(exc: HubError) -> str:
    if exc.code == "no_messaging_connection":
        return _(
            "The shop sends no messages on this channel yet: choose a connection under Messages, "
            "or make the link here and pass it on yourself."
        )
    if exc.code == "staff_disabled":
        return _("This account is disabled: a reset link would not let them in.")
    if exc.status == 422:
        return _("That is not a phone number; write it as 0912345678 or +84912345678.")
    return _("The gateway did not take the message: %(reason)s", reason=exc.message)


def _keys_page(status: int = 200, **extra):
    with current_hub().db.session() as session:
        keys = list_api_keys(session, user().merchant_id)
    return render("console/api_keys.html", status=status, keys=keys, **extra)


@bp.get("/settings/api-keys")
@requires("owner")
def api_keys():
    return _keys_page()


@bp.post("/settings/api-keys")
@requires("owner")
def create_key():
    name = request.form.get("name", "").strip()[:200]
    with current_hub().db.transaction() as session:
        issued = create_api_key(session, user().merchant_id, name=name, actor=_actor())
    return _keys_page(
        success=_("Key created. Copy it now: it is shown only this once."), secret=issued.secret
    )


@bp.post("/settings/api-keys/<int:key_id>/revoke")
@requires("owner")
def revoke_key(key_id: int):
    with current_hub().db.transaction() as session:
        key = next((k for k in list_api_keys(session, user().merchant_id) if k.id == key_id), None)
        if key is None:
            return render(
                "console/error.html",
                status=404,
                problem=_("Nothing here: it does not exist, or it belongs to another shop."),
            )
        revoke_api_key(session, str(key.id), actor=_actor())
    return _keys_page(success=_("Key revoked: requests with it are refused from now on."))
