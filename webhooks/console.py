"""The console's Outbound webhooks page: endpoints, their secrets (shown once), deliveries.

Forms call the functions ``/api/v1/webhook-endpoints`` calls
(``create_endpoint``, ``update_endpoint``, ``rotate_secret``,
``endpoint_deliveries``, ``outbound.replay``). The page's strings are in the
console's catalogues.
"""

from __future__ import annotations

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _

from hub import HubError
from hub import NotFound
from hub import console_blueprint
from hub import console_requires as requires
from hub import console_user as user
from hub import current_hub
from hub import render_console_page as render
from webhooks import outbound
from webhooks.endpoints import create_endpoint
from webhooks.endpoints import endpoint_deliveries
from webhooks.endpoints import get_endpoint
from webhooks.endpoints import list_endpoints
from webhooks.endpoints import rotate_secret
from webhooks.endpoints import update_endpoint
from webhooks.models import WebhookDelivery

bp = console_blueprint("webhooks_console", __name__, "/settings/webhooks")

#: A merchant's endpoints on one page; the API pages further.
ENDPOINTS_SHOWN = 200
DELIVERIES_SHOWN = 25


def _actor() -> str:
    return f"staff:{user().user_id}"


def _event_types(raw: str) -> list[str]:
    return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()] or ["*"]


def _list_page(status: int = 200, **extra):
    with current_hub().db.session() as session:
        endpoints = list_endpoints(
            session, user().merchant_id, after_id=None, limit=ENDPOINTS_SHOWN
        )
    form = request.form if request.method == "POST" else {}
    return render(
        "console/webhook_endpoints.html", status=status, endpoints=endpoints, form=form, **extra
    )


@bp.get("")
@requires("owner")
def endpoints():
    return _list_page()


@bp.post("")
@requires("owner")
def add_endpoint():
    hub = current_hub()
    form = request.form
    try:
        with hub.db.transaction() as session:
            endpoint, secret = create_endpoint(
                hub, session, user().merchant_id,
                url=form.get("url", "").replace("\x00", "").strip()[:2000],
                event_types=_event_types(form.get("event_types", "")),
                description=form.get("description", "").replace("\x00", "").strip()[:500],
                actor=_actor(),
            )  # fmt: skip
            endpoint_id = endpoint.id
    except HubError as exc:
        return _list_page(status=exc.status, problem=exc.message)
    return endpoint_page(
        endpoint_id,
        success=_("Endpoint added. Copy its signing secret now: it is shown only this once."),
        secret=secret,
    )


def endpoint_page(endpoint_id: int, status: int = 200, **extra):
    """One endpoint: its settings, its latest deliveries with their outcome, its actions."""
    with current_hub().db.session() as session:
        endpoint = get_endpoint(session, user().merchant_id, endpoint_id)
        deliveries = endpoint_deliveries(
            session, user().merchant_id, endpoint_id, before_id=None, limit=DELIVERIES_SHOWN
        )
    done = {"saved": _("Saved."), "replayed": _("Delivery queued for another attempt.")}
    extra.setdefault("success", done.get(request.args.get("done", "")))
    return render(
        "console/webhook_endpoint.html",
        status=status,
        endpoint=endpoint,
        deliveries=deliveries,
        current="webhooks",
        **extra,
    )


@bp.get("/<int:endpoint_id>")
@requires("owner")
def endpoint(endpoint_id: int):
    return endpoint_page(endpoint_id)


@bp.post("/<int:endpoint_id>")
@requires("owner")
def change_endpoint(endpoint_id: int):
    hub = current_hub()
    action = request.form.get("action", "")
    secret = None
    try:
        with hub.db.transaction() as session:
            found = get_endpoint(session, user().merchant_id, endpoint_id)
            if action in ("disable", "enable"):
                status = "disabled" if action == "disable" else "active"
                update_endpoint(hub, session, found, {"status": status}, actor=_actor())
            elif action == "rotate":
                secret, _expires = rotate_secret(hub, session, found, actor=_actor())
    except HubError as exc:
        if exc.status == 404:
            raise
        return endpoint_page(endpoint_id, status=exc.status, problem=exc.message)
    if secret is None:
        return redirect(url_for("webhooks_console.endpoint", endpoint_id=endpoint_id, done="saved"))
    return endpoint_page(
        endpoint_id,
        success=_(
            "New signing secret made; copy it now. The previous one still signs for 24 hours."
        ),
        secret=secret,
    )


@bp.post("/<int:endpoint_id>/deliveries/<int:delivery_id>/replay")
@requires("owner")
def replay_delivery(endpoint_id: int, delivery_id: int):
    hub = current_hub()
    with hub.db.session() as session:
        get_endpoint(session, user().merchant_id, endpoint_id)
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.endpoint_id != endpoint_id:
            raise NotFound(f"webhook delivery {delivery_id} not found")
    try:
        outbound.replay(hub, user().merchant_id, delivery_id)
    except HubError as exc:
        if exc.status == 404:
            raise
        return endpoint_page(endpoint_id, status=exc.status, problem=exc.message)
    return redirect(url_for("webhooks_console.endpoint", endpoint_id=endpoint_id, done="replayed"))
