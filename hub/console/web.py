"""The ``console`` blueprint at ``/console``: who is signed in, CSRF, roles, headers.

Every request loads the signed-in user from the session cookie (a random
token; the table holds its hash). Every POST carries the CSRF token, in the
form's ``csrf_token`` field or htmx's ``X-CSRF-Token`` header: an HMAC of the
session token (or, before sign-in, of a random pre-session cookie) with the
hub's secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint
from flask import current_app
from flask import g
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _

from hub.console.i18n import LOCALES
from hub.console.i18n import locale_code
from hub.console.nav import nav_for
from hub.core import current_hub
from hub.errors import HubError
from hub.merchants.staff import role_rank
from hub.staff_sessions import SignedIn
from hub.staff_sessions import signed_in

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

SESSION_COOKIE = "hub_console"
PRE_COOKIE = "hub_console_pre"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def secure_cookies() -> bool:
    """Secure cookies behind HTTPS: the request came over it, or the public URL is https."""
    public = current_app.config.get("HUB_PUBLIC_URL") or ""
    return request.is_secure or public.startswith("https://")


def set_cookie(response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/console",
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(),
    )


@bp.before_request
def _load_user() -> Any:
    g.console_user = None
    g.console_token = request.cookies.get(SESSION_COOKIE)
    g.console_pre = request.cookies.get(PRE_COOKIE)
    if g.console_token:
        with current_hub().db.session() as session:
            g.console_user = signed_in(session, g.console_token)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
        if not (sent and hmac.compare_digest(sent, csrf_token())):
            return render_template(
                "console/error.html",
                problem=_(
                    "This form has expired or did not come from the console. Reload the page and "
                    "try again."
                ),
            ), 400
    return None


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith("/console/static/"):
        response.headers["Cache-Control"] = "no-store"
        if g.get("new_pre"):
            set_cookie(response, PRE_COOKIE, g.new_pre)
    return response


def csrf_token() -> str:
    """The token this browser's forms carry (bound to its session or pre-session cookie)."""
    seed = g.get("console_token") if g.get("console_user") else None
    if seed is None:
        seed = g.get("console_pre") or g.get("new_pre")
        if seed is None:
            g.new_pre = seed = secrets.token_urlsafe(24)
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"console-csrf:{seed}".encode(), hashlib.sha256).hexdigest()


def user() -> SignedIn:
    return g.console_user


def requires(role: str) -> Callable:
    """Refuse the view to anyone signed out (to sign-in) or below ``role`` (403)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if g.console_user is None:
                target = url_for("console.sign_in", next=request.full_path.rstrip("?"))
                if request.headers.get("HX-Request"):
                    return "", 401, {"HX-Redirect": target}
                return redirect(target)
            if role_rank(g.console_user.role) < role_rank(role):
                return render(
                    "console/error.html",
                    status=403,
                    problem=_(
                        "Your role does not open this page. Ask the shop's owner if you need it."
                    ),
                )
            return view(*args, **kwargs)

        return guarded

    return decorate


def home_for(signed: SignedIn) -> str:
    """Where a user lands after sign-in: the counter for a cashier, else the overview."""
    return url_for("console.counter" if signed.role == "cashier" else "console.overview")


def render(template: str, *, status: int = 200, **context: Any):
    """Render a console page with the navigation, the user and the CSRF token."""
    signed = g.console_user
    return render_template(
        template,
        nav=nav_for(current_app, signed.role) if signed else [],
        me=signed,
        locale=locale_code(),
        locales=LOCALES,
        csrf=csrf_token(),
        **context,
    ), status


def page_url(**changes: Any) -> str:
    """This page's URL with some query arguments changed (None drops one)."""
    args = {k: v for k, v in request.args.items() if k not in changes}
    args.update({k: v for k, v in changes.items() if v not in (None, "")})
    return f"{request.path}?{urlencode(args)}" if args else request.path


@bp.app_template_global()
def console_page_url(**changes: Any) -> str:
    return page_url(**changes)


@bp.errorhandler(HubError)
def _hub_error(error: HubError):
    if error.status == 404:
        return render(
            "console/error.html",
            status=404,
            problem=_("Nothing here: it does not exist, or it belongs to another shop."),
        )
    return render("console/error.html", status=error.status, problem=error.message)


@bp.errorhandler(404)
def _not_found(_error):
    return render(
        "console/error.html",
        status=404,
        problem=_("Nothing here: it does not exist, or it belongs to another shop."),
    )


def plugin_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint for a plugin's console pages, mounted under ``/console``.

    Its requests get what the console's own do: the signed-in user (so
    ``requires`` and ``render`` work), the CSRF check on every POST, the
    security headers and the console's error pages. Its templates extend
    ``console/base.html``.
    """
    pages = Blueprint(
        name, import_name, url_prefix=f"/console{url_prefix}", template_folder="templates"
    )
    pages.before_request(_load_user)
    pages.after_request(_headers)
    pages.register_error_handler(HubError, _hub_error)
    pages.register_error_handler(404, _not_found)
    return pages
