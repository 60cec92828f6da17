"""Signing in and out, one-time links (first sign-in, invitation, reset), the language."""

from __future__ import annotations

from flask import g
from flask import make_response
from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _

from hub.console.i18n import LANG_COOKIE
from hub.console.i18n import LOCALES
from hub.console.web import SESSION_COOKIE
from hub.console.web import bp
from hub.console.web import home_for
from hub.console.web import render
from hub.console.web import set_cookie
from hub.core import current_hub
from hub.errors import HubError
from hub.merchants.staff import check_password
from hub.merchants.staff import find_link
from hub.merchants.staff import password_hasher
from hub.merchants.staff import use_link
from hub.models import StaffUser
from hub.staff_sessions import SESSION_LIFETIME
from hub.staff_sessions import close_session
from hub.staff_sessions import forget_failures
from hub.staff_sessions import open_session
from hub.staff_sessions import record_failure
from hub.staff_sessions import signed_in
from hub.staff_sessions import throttled_for


def _hasher():
    return password_hasher(current_hub().config)


def _address() -> str:
    return request.remote_addr or "unknown"


def _safe_next(target: str | None) -> str | None:
    """Only a path inside the console; never another site."""
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return None


def _signed_in_response(token: str, target: str | None):
    with current_hub().db.session() as session:
        signed = signed_in(session, token)
    response = make_response(redirect(_safe_next(target) or home_for(signed)))
    set_cookie(response, SESSION_COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()))
    return response


@bp.get("/")
def index():
    if g.console_user is None:
        return redirect(url_for("console.sign_in"))
    return redirect(home_for(g.console_user))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if request.method == "GET":
        return render("console/sign_in.html", email="", next=request.args.get("next", ""))
    email = request.form.get("email", "").strip()[:254]
    password = request.form.get("password", "")
    target = request.form.get("next")
    hub = current_hub()
    with hub.db.transaction() as session:
        wait = throttled_for(session, email, _address())
        if wait is None:
            user = check_password(session, email, password, hasher=_hasher())
            if user is None:
                record_failure(session, email, _address())
            else:
                forget_failures(session, email)
                # A new session at every sign-in: a token from before it is never reused.
                token = open_session(session, user)
    if wait is not None:
        minutes = max(1, int(wait.total_seconds() // 60) + 1)
        problem = _(
            "Too many failed sign-ins. Wait %(minutes)s minutes and try again, or ask the "
            "owner for a password reset link.",
            minutes=minutes,
        )
        return render("console/sign_in.html", status=429, email=email, next=target, problem=problem)
    if user is None:
        return render(
            "console/sign_in.html",
            status=401,
            email=email,
            next=target,
            problem=_("That email and password do not match an account."),
        )
    if g.console_token:
        _close(g.console_token)
    return _signed_in_response(token, target)


def _close(token: str) -> None:
    with current_hub().db.transaction() as session:
        close_session(session, token)


@bp.post("/sign-out")
def sign_out():
    if g.console_token:
        _close(g.console_token)
    response = make_response(redirect(url_for("console.sign_in", signed_out=1)))
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@bp.route("/link/<token>", methods=["GET", "POST"])
def link(token: str):
    """A one-time link: choose a password (and a name), then be signed in."""
    hub = current_hub()
    try:
        with hub.db.session() as session:
            found, user = find_link(session, token)
            purpose, email, name = found.purpose, user.email, user.name
    except HubError:
        return render(
            "console/error.html",
            status=404,
            problem=_(
                "This link was already used or has expired. Ask the shop's owner for a new one."
            ),
        )
    context = {"purpose": purpose, "email": email, "name": name, "token": token}
    if request.method == "GET":
        return render("console/link.html", **context)
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return render(
            "console/link.html",
            status=422,
            **context,
            problem=_("The two passwords are not the same."),
        )
    try:
        with hub.db.transaction() as session:
            user = use_link(
                session, token, password, hasher=_hasher(), name=request.form.get("name")
            )
            new_token = open_session(session, user)
    except HubError as exc:
        problem = (
            _("The password needs at least 10 characters.")
            if exc.code == "password_too_short"
            else exc.message
        )
        return render("console/link.html", status=422, **context, problem=problem)
    return _signed_in_response(new_token, None)


@bp.get("/forgot")
def forgot():
    return render("console/forgot.html")


@bp.post("/language")
def language():
    chosen = request.form.get("locale")
    if chosen not in LOCALES:
        chosen = "vi"
    if g.console_user is not None:
        with current_hub().db.transaction() as session:
            session.get(StaffUser, g.console_user.user_id).locale = chosen
    back = request.form.get("back")
    response = make_response(
        redirect(back if back and back.startswith("/console") else url_for("console.index"))
    )
    response.set_cookie(
        LANG_COOKIE, chosen, max_age=365 * 86400, path="/console", samesite="Lax", httponly=True
    )
    return response
