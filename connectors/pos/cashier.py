"""The cashier page at ``/pos/cashier``: a counter in a browser, for shops without a POS plugin.

Server-rendered forms, a little vanilla JavaScript, no CDN: it works on a
tablet with the shop's internet down as long as the hub is reachable. Signed
in with the connection's POS key; every form carries the session's CSRF
token. It calls the same services as the counter API, so a sale earned here
is a sale of the POS connection like any other.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from flask import Blueprint
from flask import abort
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from connectors.pos import cashier_session as sessions
from connectors.pos import keys
from connectors.pos import members
from connectors.pos import rewards
from connectors.pos import sales
from connectors.pos.cashier_text import LANGUAGES
from connectors.pos.cashier_text import format_money
from connectors.pos.cashier_text import group
from connectors.pos.cashier_text import parse_amount
from connectors.pos.cashier_text import translator
from connectors.pos.retry import write
from hub import HubError
from hub import current_hub
from hub import day_text
from hub import member_qr_svg
from hub import utcnow

bp = Blueprint(
    "pos_cashier",
    __name__,
    url_prefix="/pos/cashier",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: How old a form may be and still date its sale.
SHIFT = timedelta(hours=12)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith("/pos/cashier/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _lang(counter: keys.Counter | None = None) -> str:
    chosen = request.cookies.get(sessions.LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if counter is not None and counter.locale in LANGUAGES:
        return counter.locale
    return request.accept_languages.best_match(LANGUAGES, default="vi")


def _render(template: str, status: int = 200, counter: keys.Counter | None = None, **context):
    lang = _lang(counter)
    currency = counter.currency if counter else "VND"
    zone = counter.timezone if counter else "Asia/Ho_Chi_Minh"
    page = render_template(
        f"pos_cashier/{template}",
        t=translator(lang),
        lang=lang,
        other_lang="en" if lang == "vi" else "vi",
        counter=counter,
        money=lambda amount: format_money(amount, currency, lang),
        number=lambda value: group(value, lang),
        # The merchant's way of writing a day, the same as the widget's.
        day=lambda moment: day_text(moment, counter.locale if counter else "vi", zone),
        here=request.full_path.rstrip("?"),
        **context,
    )
    return make_response(page, status)


def _signed_in():
    """Return (session, counter) of a live sign-in, or (None, None)."""
    session = sessions.read_session()
    if session is None:
        return None, None
    with current_hub().db.session() as db:
        counter = keys.counter_for_key(db, session.key_id)
    return (session, counter) if counter is not None else (None, None)


def _require():
    """The signed-in counter of a page, or a redirect to the sign-in form."""
    session, counter = _signed_in()
    if counter is None:
        return None, None, redirect(url_for("pos_cashier.home"))
    return session, counter, None


def _check_csrf(session: sessions.CashierSession) -> None:
    if not sessions.same(session.csrf, request.form.get("csrf")):
        abort(403, "the form is stale or did not come from this page; reload it")


# -- signing in --------------------------------------------------------------------


@bp.get("")
def home():
    session, counter = _signed_in()
    if counter is None:
        return _sign_in_page()
    return _render("lookup.html", counter=counter, csrf=session.csrf)


def _sign_in_page(error: str | None = None, status: int = 200):
    token, fresh = sessions.sign_in_token()
    response = _render("sign_in.html", status, csrf=token, error=error)
    if fresh:
        sessions.remember_sign_in_token(response, token)
    return response


@bp.post("/sign-in")
def sign_in():
    expected = request.cookies.get(sessions.SIGN_IN_COOKIE)
    if not sessions.same(expected, request.form.get("csrf")):
        abort(403, "the sign-in form is stale; reload the page and try again")
    with current_hub().db.session() as db:
        counter = keys.authenticate(db, request.form.get("key", ""))
    if counter is None:
        return _sign_in_page(error="bad_key", status=401)
    response = redirect(url_for("pos_cashier.home"))
    sessions.start_session(response, counter.key_id)
    return response


@bp.post("/sign-out")
def sign_out():
    session = sessions.read_session()
    if session is not None:
        _check_csrf(session)
    response = redirect(url_for("pos_cashier.home"))
    sessions.end_session(response)
    return response


@bp.get("/lang/<lang>")
def language(lang: str):
    target = request.args.get("next") or ""
    if not target.startswith("/pos/cashier") or "//" in target or "\\" in target:
        target = url_for("pos_cashier.home")
    response = redirect(target)
    if lang in LANGUAGES:
        sessions.set_language(response, lang)
    return response


# -- finding a member ------------------------------------------------------------------


@bp.post("/lookup")
def lookup():
    session, counter, away = _require()
    if away:
        return away
    _check_csrf(session)
    text = (request.form.get("q") or "").strip()
    found_lookup = members.read_lookup(text, current_hub().config["HUB_DEFAULT_REGION"])
    try:
        with current_hub().db.session() as db:
            found = members.find(db, counter, found_lookup)
    except HubError:
        return _render(
            "lookup.html",
            counter=counter,
            csrf=session.csrf,
            missing=text,
            enrol_phone=text if found_lookup.phone else "",
        )
    return redirect(url_for("pos_cashier.member", code=found.member.code))


@bp.get("/members/<code>")
def member(code: str):
    session, counter, away = _require()
    if away:
        return away
    with current_hub().db.session() as db:
        try:
            found = members.find_by_code(db, counter, code)
        except HubError:
            return _render("lookup.html", 404, counter=counter, csrf=session.csrf, missing=code)
        vouchers = members.usable_vouchers(db, found.member.id)
        catalog = rewards.catalog(db, counter)
    notice = sessions.read_notice(request.args.get("n"))
    if notice and notice.get("for") != found.member.code:
        notice = None
    return _render(
        "member.html",
        counter=counter,
        csrf=session.csrf,
        found=found,
        vouchers=vouchers,
        catalog=catalog,
        qr=member_qr_svg(found.member.code),
        notice=notice,
        receipt_default=_new_receipt(),
        opened_at=utcnow().isoformat(),
        request_id=secrets.token_urlsafe(12),
    )


def _form_time(raw: str | None) -> datetime:
    """The sale's time: when its form was opened, so sending the form twice is one sale.

    A time that is not from the last shift (or is in the future) is replaced by now.
    """
    now = utcnow()
    try:
        opened = datetime.fromisoformat(raw or "")
    except ValueError:
        return now
    if opened.tzinfo is None or not now - SHIFT <= opened <= now:
        return now
    return opened


def _new_receipt() -> str:
    """A receipt number for a sale typed at the page without one (unique, readable)."""
    return f"C-{utcnow():%y%m%d}-{secrets.token_hex(3).upper()}"


def _t(counter: keys.Counter):
    return translator(_lang(counter))


def _back(code: str, *, notice: dict[str, Any]):
    """Back to the member's page (303), with a signed notice of what was done."""
    code = code.strip().upper()
    signed = sessions.sign_notice({**notice, "for": code})
    return redirect(url_for("pos_cashier.member", code=code) + "?n=" + quote(signed), 303)


def _failed(code: str, exc: HubError):
    return _back(code, notice={"kind": "error", "message": exc.message[:300]})


# -- earning, redeeming, enrolling --------------------------------------------------------


@bp.post("/members/<code>/earn")
def earn(code: str):
    session, counter, away = _require()
    if away:
        return away
    _check_csrf(session)
    hub = current_hub()
    amount = parse_amount(request.form.get("amount"), counter.currency)
    if amount is None:
        return _back(code, notice={"kind": "error", "message": _t(counter)("amount")})
    typed = "".join(c for c in request.form.get("receipt") or "" if c.isprintable()).strip()
    receipt = typed or request.form.get("receipt_default")
    sale = sales.SaleIn(
        receipt=(receipt if receipt and receipt.isprintable() else _new_receipt())[:64],
        sold_at=_form_time(request.form.get("opened_at")),
        total=amount,
        member_code=code,
    )
    try:
        result = write(hub, lambda db: sales.record_sale(hub, db, counter, sale))
    except HubError as exc:
        return _failed(code, exc)
    kind = "earned" if result.created else "replayed"
    return _back(
        code, notice={"kind": kind, "receipt": sale.receipt, "points": result.points_earned}
    )


@bp.post("/members/<code>/redeem")
def redeem(code: str):
    session, counter, away = _require()
    if away:
        return away
    _check_csrf(session)
    hub = current_hub()
    try:
        reward_id = int(request.form.get("reward_id", ""))
    except ValueError:
        abort(400, "choose a reward")
    request_id = (request.form.get("request_id") or "")[:64] or secrets.token_urlsafe(12)

    def work(db):
        found = members.find_by_code(db, counter, code)
        return rewards.redeem_at_counter(hub, db, counter, found, reward_id, request_id)

    try:
        answer = write(hub, work)
    except HubError as exc:
        return _failed(code, exc)
    # The code itself stays out of the URL: the page shows it from the member's vouchers.
    voucher = answer["voucher"]
    return _back(
        code, notice={"kind": "redeemed", "name": voucher["name"], "voucher": voucher["id"]}
    )


@bp.get("/enrol")
def enrol_form():
    session, counter, away = _require()
    if away:
        return away
    return _render(
        "enrol.html", counter=counter, csrf=session.csrf, phone=request.args.get("phone", "")
    )


@bp.post("/enrol")
def enrol():
    session, counter, away = _require()
    if away:
        return away
    _check_csrf(session)
    hub = current_hub()
    form = request.form
    data = {
        "phone": form.get("phone", ""),
        "name": (form.get("name") or "").strip()[:200],
        # Only boxes ticked are recorded: an unticked box is no answer, not a refusal.
        "consents": {ch: True for ch in ("sms", "zalo") if form.get(f"consent_{ch}") == "on"},
    }
    region = hub.config["HUB_DEFAULT_REGION"]
    try:
        enrolment = write(hub, lambda db: members.enrol(db, counter, data, region))
    except HubError as exc:
        return _render(
            "enrol.html",
            422,
            counter=counter,
            csrf=session.csrf,
            phone=data["phone"],
            name=data["name"],
            error=exc.message,
        )
    kind = "enrolled" if enrolment.created else "existing"
    code = enrolment.member.code
    return _back(code, notice={"kind": kind, "code": code})
