"""Settings: the shop itself (name, timezone, language, currency) and the audit log.

The shop's form changes it through ``update_merchant``, as ``PATCH
/api/v1/merchant`` does; the audit log reads through ``audit_records``, as
``GET /api/v1/audit`` does, with the same filters.
"""

from __future__ import annotations

from datetime import datetime
from datetime import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import redirect
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError as SchemaError

from hub.api.pagination import decode_cursor
from hub.api.pagination import encode_cursor
from hub.api.schemas import MerchantSchema
from hub.audit import AuditFilter
from hub.audit import audit_records
from hub.console.dates import BadDate
from hub.console.dates import read_day
from hub.console.schema_forms import flat_errors
from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.errors import ValidationError
from hub.merchants.accounts import update_merchant
from hub.merchants.staff import list_staff
from hub.models import Merchant

#: Timezones offered first; any IANA name may be typed.
TIMEZONES = ("Asia/Ho_Chi_Minh", "Asia/Bangkok", "Asia/Singapore", "Asia/Tokyo", "UTC")
CURRENCIES = ("VND", "USD", "EUR", "SGD", "THB")
#: Audit actions by family, for the filter (an action outside them still shows in the log).
FAMILIES = (
    "member", "points", "privacy", "connection", "pos_key", "pos_redemption", "kiotviet",
    "reward", "tier", "tier_settings", "program", "staff", "api_key", "merchant", "messaging",
    "segment", "webhook_endpoint",
)  # fmt: skip
PAGE = 50
DONE = {"saved": _l("Shop settings saved.")}


def _actor() -> str:
    return f"staff:{user().user_id}"


def _shop_page(status: int = 200, **extra):
    with current_hub().db.session() as session:
        merchant = session.get(Merchant, user().merchant_id)
        session.expunge(merchant)
    done = DONE.get(request.args.get("done", ""))
    extra.setdefault("success", str(done) if done else None)
    return render(
        "console/shop.html",
        status=status,
        merchant=merchant,
        timezones=TIMEZONES,
        currencies=CURRENCIES,
        **extra,
    )


@bp.get("/settings")
@requires("owner")
def settings():
    return _shop_page()


@bp.post("/settings")
@requires("owner")
def save_settings():
    form = request.form
    fields = ("name", "timezone", "locale", "currency")
    given = {name: form.get(name, "").replace("\x00", "").strip() for name in fields}
    try:
        try:
            changes = MerchantSchema(partial=True).load({k: v for k, v in given.items() if v})
        except SchemaError as exc:
            problem = _("Some fields are not valid; see the list below.")
            raise ValidationError(problem, details=exc.messages) from None
        with current_hub().db.transaction() as session:
            update_merchant(session, user().merchant_id, changes, actor=_actor())
    except HubError as exc:
        return _shop_page(status=exc.status, problem=exc.message, errors=flat_errors(exc.details))
    return redirect(url_for("console.settings", done="saved"))


def _day_bound(raw: str, timezone: str, *, end: bool, field: str) -> datetime | None:
    """The start of a day typed in the merchant's timezone (of the next day for ``end``).

    :raise BadDate: the box holds no day in the page's style.
    """
    day = read_day(raw, field=field)
    if day is None:
        return None
    start = datetime.combine(day + timedelta(days=1 if end else 0), time(), ZoneInfo(timezone))
    return start.astimezone(ZoneInfo("UTC"))


def audit_filter(args, timezone: str) -> AuditFilter:
    """The audit log's filters as the page's query carries them.

    :raise BadDate: a date box holds no day in the page's style.
    """
    return AuditFilter(
        actor=args.get("actor", "").strip()[:100] or None,
        action=args.get("action", "").strip()[:64] or None,
        since=_day_bound(args.get("from", ""), timezone, end=False, field="from"),
        until=_day_bound(args.get("to", ""), timezone, end=True, field="to"),
    )


@bp.get("/settings/audit")
@requires("owner")
def audit():
    me = user()
    try:
        wanted = audit_filter(request.args, me.timezone)
    except BadDate as exc:
        return render("console/audit.html", status=422, rows=[], people={}, families=FAMILIES,
                      wanted=AuditFilter(), older=None, problem=exc.message)  # fmt: skip
    with current_hub().db.session() as session:
        rows = audit_records(
            session,
            me.merchant_id,
            wanted,
            before_id=decode_cursor(request.args.get("cursor")),
            limit=PAGE,
        )
        people = {f"staff:{p.id}": p.name or p.email for p in list_staff(session, me.merchant_id)}
    return render(
        "console/audit.html",
        rows=rows,
        people=people,
        families=FAMILIES,
        wanted=wanted,
        older=encode_cursor(rows[-1].id) if len(rows) == PAGE else None,
    )
