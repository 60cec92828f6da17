"""Widget: the floating points widget of each storefront, its look, its snippet, a preview.

The look (colour, position, launcher text), the storefront's origins and its
sign-up and referral links are the connection's settings, saved through
``update_connection`` as ``PATCH /api/v1/connections/<id>`` saves them; the
widget secret is made as ``POST /api/v1/connections/<id>/widget-secret``
makes it. The preview is drawn by the console's own script from the form.
"""

from __future__ import annotations

from flask import current_app
from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hub.console.schema_forms import flat_errors
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.merchants.connections import connection_secrets
from hub.merchants.connections import get_connection
from hub.merchants.connections import list_connections
from hub.merchants.connections import update_connection
from hub.widget.state import DEFAULT_THEME
from hub.widget.tokens import new_widget_secret

#: Connections a storefront widget is put on.
STOREFRONT_KINDS = ("store", "custom")
SNIPPET_LOCALES = ("vi", "en", "auto")

DONE = {
    "saved": _l("Widget saved; storefronts show it on their next page view."),
}


def _actor() -> str:
    return f"staff:{user().user_id}"


def hub_url() -> str:
    """The hub's address as the storefront loads it: the public URL, else this request's."""
    public = current_app.config.get("HUB_PUBLIC_URL") or request.host_url
    return public.rstrip("/")


def snippet(connection_id: int, locale: str) -> str:
    """The script tag the store's theme carries (the token filled in by the store's server)."""
    lang = f' data-locale="{locale}"' if locale in ("vi", "en") else ""
    return (
        f'<script src="{hub_url()}/widget/v1/loader.js" data-connection="{connection_id}"\n'
        f'        data-token="{{{{ widget_token }}}}"{lang} async></script>'
    )


def read_widget_form(form) -> dict:
    """The settings the widget form carries; an empty field clears its setting."""

    def text(name: str) -> str | None:
        return form.get(name, "").replace("\x00", "").strip() or None

    origins = [line.strip() for line in form.get("origins", "").splitlines() if line.strip()]
    return {
        "widget": {
            "colour": text("colour"),
            "position": text("position"),
            "launcher_text": text("launcher_text"),
        },
        "storefront_origins": origins,
        "join_url": text("join_url"),
        "referral_url": text("referral_url"),
    }


def _storefronts(session, merchant_id: int) -> list:
    hub = current_hub()
    return [
        c
        for c in list_connections(session, merchant_id)
        if getattr(hub.connectors.get(c.connector), "kind", "store") in STOREFRONT_KINDS
    ]


def _widget_page(status: int = 200, connection_id: int | None = None, **extra):
    hub = current_hub()
    me = user()
    with hub.db.session() as session:
        storefronts = _storefronts(session, me.merchant_id)
        wanted = connection_id or request.args.get("connection", type=int)
        chosen = next((c for c in storefronts if c.id == wanted), None) or (
            storefronts[0] if storefronts else None
        )
        has_secret = chosen is not None and "widget_secret" in connection_secrets(hub, chosen)
    locale = request.args.get("locale", "vi")
    locale = locale if locale in SNIPPET_LOCALES else "vi"
    settings = (chosen.settings or {}) if chosen else {}
    theme = {**DEFAULT_THEME, **{k: v for k, v in (settings.get("widget") or {}).items() if v}}
    done = DONE.get(request.args.get("done", ""))
    extra.setdefault("success", str(done) if done else None)
    return render(
        "console/widget.html",
        status=status,
        storefronts=storefronts,
        chosen=chosen,
        settings=settings,
        theme=theme,
        has_secret=has_secret,
        locale_choice=locale,
        snippet_locales=SNIPPET_LOCALES,
        snippet=snippet(chosen.id, locale) if chosen else "",
        **extra,
    )


@bp.get("/widget")
@requires("manager")
def widget():
    return _widget_page()


@bp.post("/widget/<int:connection_id>")
@requires("manager")
def save_widget(connection_id: int):
    hub = current_hub()
    try:
        with hub.db.transaction() as session:
            found = get_connection(session, user().merchant_id, connection_id)
            changes = {"settings": read_widget_form(request.form)}
            update_connection(hub, session, found, changes, actor=_actor())
    except HubError as exc:
        if exc.status == 404:
            raise
        return _widget_page(
            status=exc.status,
            connection_id=connection_id,
            problem=exc.message,
            errors=flat_errors(exc.details),
        )
    return redirect(url_for("console.widget", connection=connection_id, done="saved"))


@bp.post("/widget/<int:connection_id>/secret")
@requires("owner")
def widget_secret(connection_id: int):
    hub = current_hub()
    secret = new_widget_secret()
    with hub.db.transaction() as session:
        found = get_connection(session, user().merchant_id, connection_id)
        update_connection(
            hub, session, found, {"secrets": {"widget_secret": secret}}, actor=_actor()
        )
    return _widget_page(
        connection_id=connection_id,
        success=_(
            "New widget secret made. Put it on the store's server now: it is shown only this "
            "once, and the previous one has stopped working."
        ),
        widget_secret=secret,
    )
