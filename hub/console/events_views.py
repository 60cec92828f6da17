"""Points for actions: the earning rules on events and the events signing secrets.

The rules are read through ``hub.points.actions.list_rules`` (they are set
through ``PUT /api/v1/events/rules``); the secrets are made and listed through
``hub.merchants.event_secrets``, the services ``/api/v1/events/secrets`` calls.
A new secret is shown once, on the page that made it.
"""

from __future__ import annotations

from flask_babel import gettext as _

from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.db import utcnow
from hub.merchants.event_secrets import create_event_secret
from hub.merchants.event_secrets import list_event_secrets
from hub.points.actions import list_rules


def _page(**extra):
    merchant_id = user().merchant_id
    with current_hub().db.session() as session:
        rules = list_rules(session, merchant_id)
        secrets = list_event_secrets(session, merchant_id, utcnow())
    return render(
        "console/events.html", rules=rules, secrets=secrets, merchant_id=merchant_id, **extra
    )


@bp.get("/events")
@requires("owner")
def events():
    return _page()


@bp.post("/events/secrets")
@requires("owner")
def create_events_secret():
    hub = current_hub()
    with hub.db.transaction() as session:
        made = create_event_secret(
            hub, session, user().merchant_id, actor=f"staff:{user().user_id}", now=utcnow()
        )
    return _page(
        success=_("Signing secret made. Copy it now: it is shown only this once."),
        secret=made.secret,
    )
