"""Connections: the shop's stores, tills and gateways with their health; add, edit, install.

Forms call the services ``/api/v1/connections`` calls (``create_connection``,
``update_connection``): settings are loaded with the connector's schema and
secrets are stored encrypted. A secret is never shown back, only whether it
is set; a blank secret field keeps the stored one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema

from hub.connection_health import delivery_health
from hub.connection_settings import settings_schema_of
from hub.console.schema_forms import FormField
from hub.console.schema_forms import flat_errors
from hub.console.schema_forms import form_fields
from hub.console.schema_forms import read_fields
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.merchants.connections import connection_secrets
from hub.merchants.connections import connector_info
from hub.merchants.connections import create_connection
from hub.merchants.connections import get_connection
from hub.merchants.connections import list_connections
from hub.merchants.connections import update_connection
from hub.registry import Connector

#: Settings the Widget page edits, and the widget's rate limits (the operator's business).
OTHER_PAGES = (
    "widget", "widget_rate_limits", "storefront_origins", "join_url", "referral_url",
)  # fmt: skip

#: The settings and secrets connectors take, by name, as people read them.
FIELD_NAMES = {
    "storefront_origins": _l("Store addresses the widget runs on"),
    "join_url": _l("Sign-up page link"),
    "referral_url": _l("Referral page link"),
    "location": _l("Shop location"),
    "redeem_points": _l("Paying with points at the counter"),
    "retailer": _l("KiotViet retailer name"),
    "timezone": _l("Timezone"),
    "currency": _l("Currency"),
    "shop": _l("Store domain"),
    "inject_widget": _l("Add the widget to the storefront"),
    "org_id": _l("Haravan shop id"),
    "verify_token": _l("Webhook verify token"),
    "legacy_hmac_sha1": _l("Older HMAC-SHA1 signatures"),
    "price": _l("Price per message"),
    "brandname": _l("Brand name"),
    "sms_type": _l("SMS type"),
    "oa_id": _l("Zalo OA id"),
    "sandbox": _l("Sandbox (nothing is really sent)"),
    "sender": _l("Sender name"),
    "account_sid": _l("Account SID"),
    "from_number": _l("Sending number"),
    "messaging_service_sid": _l("Messaging service SID"),
    "app_id": _l("App id"),
    "mode": _l("Mode"),
    "webhook_secret": _l("Webhook secret"),
    "previous_webhook_secret": _l("Previous webhook secret"),
    "client_id": _l("Client id"),
    "client_secret": _l("Client secret"),
    "access_token": _l("Access token"),
    "refresh_token": _l("Refresh token"),
    "api_key": _l("API key"),
    "secret_key": _l("Secret key"),
    "auth_token": _l("Auth token"),
    "app_secret": _l("App secret"),
    "oa_secret_key": _l("OA secret key"),
    "access_token_expires_at": _l("Access token expires at"),
    "authorization_code": _l("Authorization code"),
    "code_verifier": _l("Code verifier"),
    "host": _l("Mail server (SMTP host)"),
    "port": _l("Port"),
    "security": _l("Encryption (starttls, ssl or none)"),
    "username": _l("User name"),
    "password": _l("Password"),
    "from_email": _l("Sender e-mail address"),
    "from_name": _l("Sender name shown"),
    "sender_email": _l("Sender e-mail address (verified in Brevo)"),
    "sender_name": _l("Sender name shown"),
    "reply_to": _l("Reply-to address"),
    "webhook_token": _l("Webhook bearer token"),
    "cpid": _l("Short code id (cpid)"),
    "mo_private_key": _l("Private key for replies"),
}

DONE = {
    "created": _l("Connection added."),
    "saved": _l("Connection saved."),
    "disabled": _l("Connection switched off: its webhooks and tills are refused from now on."),
    "enabled": _l("Connection switched on."),
}


def _actor() -> str:
    return f"staff:{user().user_id}"


def field_name(name: str) -> str:
    """A setting's or secret's name as people read it; an unknown one from its key."""
    known = FIELD_NAMES.get(name)
    return str(known) if known is not None else name.replace("_", " ").capitalize()


def settings_fields(info: Connector, values: dict | None) -> list[FormField]:
    """The connector's settings as form fields, labelled in the user's language."""
    return [
        replace(field, label=field_name(field.name))
        for field in form_fields(_settings_schema(info), values, skip=OTHER_PAGES)
    ]


def _name() -> str:
    return request.form.get("name", "").replace("\x00", "").strip()[:200]


def _settings_schema(info: Connector) -> type[Schema]:
    return type(settings_schema_of(info))


def secret_names(info: Connector) -> list[str]:
    """The secrets a connector takes, by name (``widget_secret`` has a button of its own)."""
    if info.secrets_schema is None:
        return []
    names = [f.data_key or n for n, f in info.secrets_schema().fields.items()]
    return [name for name in names if name != "widget_secret"]


def read_connection_form(info: Connector, form: Any) -> tuple[dict, dict]:
    """The settings and the secrets a connection form carries; blank fields are left out."""
    settings = read_fields(_settings_schema(info), form, "setting.")
    for field in form_fields(_settings_schema(info), None, skip=OTHER_PAGES):
        if field.kind == "number" and isinstance(settings.get(field.name), str):
            raw = settings[field.name]
            settings[field.name] = int(raw) if raw.lstrip("-").isdigit() else raw
        if field.kind == "checkbox" and f"setting.{field.name}" not in form:
            settings.pop(field.name, None)
    for name in OTHER_PAGES:
        settings.pop(name, None)
    secrets = {
        name: form[f"secret.{name}"]
        for name in secret_names(info)
        if form.get(f"secret.{name}", "").strip()
    }
    return settings, secrets


def _connectors() -> list[Connector]:
    return sorted(current_hub().connectors.values(), key=lambda c: (c.kind, c.title or c.name))


def _list_page(status: int = 200, **extra):
    hub = current_hub()
    me = user()
    with hub.db.session() as session:
        connections = list_connections(session, me.merchant_id)
        health = delivery_health(hub, session, me.merchant_id, [c.id for c in connections])
    chosen = hub.connectors.get(request.values.get("connector", ""))
    done = DONE.get(request.args.get("done", ""))
    extra.setdefault("success", str(done) if done else None)
    return render(
        "console/connections.html",
        status=status,
        field_name=field_name,
        connections=connections,
        health=health,
        connectors=_connectors(),
        installable=[
            c for c in _connectors() if type(c).install_link is not Connector.install_link
        ],
        chosen=chosen,
        fields=settings_fields(chosen, None) if chosen else [],
        secrets=[(name, False) for name in secret_names(chosen)] if chosen else [],
        form=request.form if request.method == "POST" else {},
        **extra,
    )


@bp.get("/connections")
@requires("manager")
def connections():
    return _list_page()


@bp.post("/connections")
@requires("owner")
def add_connection():
    hub = current_hub()
    info = hub.connectors.get(request.form.get("connector", ""))
    if info is None:
        return _list_page(status=422, problem=_("Choose what to connect from the list."))
    try:
        settings, secrets = read_connection_form(info, request.form)
        with hub.db.transaction() as session:
            made = create_connection(
                hub, session, user().merchant_id, connector=info.name, name=_name(),
                settings=settings, secrets=secrets, actor=_actor(),
            )  # fmt: skip
            made_id = made.id
    except HubError as exc:
        return _list_page(status=exc.status, problem=exc.message, errors=flat_errors(exc.details))
    return redirect(url_for("console.connection", connection_id=made_id, done="created"))


@bp.post("/connections/install/<connector>")
@requires("owner")
def install_connection(connector: str):
    """Send the owner's browser to the store's OAuth install (the connector's own routes)."""
    hub = current_hub()
    info = hub.connectors.get(connector)
    fields = {
        name: request.form.get(name, "").strip() for name in (info.install_fields if info else ())
    }
    try:
        link = info.install_link(hub, user().merchant_id, fields) if info else None
    except HubError as exc:
        return _list_page(status=exc.status, problem=exc.message)
    if link is None:
        return _list_page(status=404, problem=_("This connector has no install button."))
    return redirect(link)


def connection_page(connection_id: int, status: int = 200, **extra):
    """The connection's page: its settings, secrets (set or not), health, keys and actions."""
    hub = current_hub()
    me = user()
    with hub.db.session() as session:
        connection = get_connection(session, me.merchant_id, connection_id)
        info = connector_info(hub, connection)
        health = delivery_health(hub, session, me.merchant_id, [connection.id])[connection.id]
        keys = info.access_keys(hub, session, connection)
        stored = set(connection_secrets(hub, connection))
    done = DONE.get(request.args.get("done", ""))
    extra.setdefault("success", str(done) if done else None)
    return render(
        "console/connection.html",
        status=status,
        field_name=field_name,
        connection=connection,
        info=info,
        health=health,
        keys=keys,
        device_url=info.device_url(hub, connection),
        gateway=info.gateway,
        fields=settings_fields(info, connection.settings),
        secrets=[(name, name in stored) for name in secret_names(info)],
        has_widget_secret="widget_secret" in stored,
        **extra,
    )


@bp.get("/connections/<int:connection_id>")
@requires("manager")
def connection(connection_id: int):
    return connection_page(connection_id)


@bp.post("/connections/<int:connection_id>")
@requires("owner")
def change_connection(connection_id: int):
    hub = current_hub()
    action = request.form.get("action", "save")
    try:
        with hub.db.transaction() as session:
            found = get_connection(session, user().merchant_id, connection_id)
            if action in ("disable", "enable"):
                changes: dict = {"status": "disabled" if action == "disable" else "active"}
            else:
                settings, secrets = read_connection_form(connector_info(hub, found), request.form)
                changes = {
                    "name": request.form.get("name", "").replace("\x00", "").strip()[:200]
                    or found.connector
                }
                changes.update({"settings": settings} if settings else {})
                changes.update({"secrets": secrets} if secrets else {})
            update_connection(hub, session, found, changes, actor=_actor())
    except HubError as exc:
        if exc.status == 404:
            raise
        return connection_page(
            connection_id, status=exc.status, problem=exc.message, errors=flat_errors(exc.details)
        )
    done = {"disable": "disabled", "enable": "enabled"}.get(action, "saved")
    return redirect(url_for("console.connection", connection_id=connection_id, done=done))
