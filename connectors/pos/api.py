"""The counter API under ``/pos/v1``: what any point-of-sale calls with its POS key.

Every call sends ``Authorization: Bearer pos_...``; the key opens its own
connection's counter and nothing of the merchant API. Errors have the hub's
one shape, ``{"error": {"code", "message", "details"}}``. Each answer is
built in one authentication query plus one or two of its own (sales and
refunds also record the order through the core). See docs/counter-api.md.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from flask import Blueprint
from flask import Response
from flask import g
from flask import jsonify
from flask import request
from werkzeug.exceptions import HTTPException

from connectors.pos import keys
from connectors.pos import members
from connectors.pos import rewards
from connectors.pos import sales
from connectors.pos.redemption import redemption_terms
from connectors.pos.retry import write
from connectors.pos.schemas import EnrolSchema
from connectors.pos.schemas import RedemptionSchema
from connectors.pos.schemas import RefundSchema
from connectors.pos.schemas import SaleSchema
from connectors.pos.schemas import VoidSchema
from connectors.pos.schemas import VoucherBurnSchema
from connectors.pos.schemas import VoucherCheckSchema
from connectors.pos.schemas import load
from hub import HubError
from hub import Member
from hub import current_hub

bp = Blueprint("pos_counter", __name__, url_prefix="/pos/v1")


def _error(status: int, code: str, message: str, details: Any = None, headers=None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@bp.before_request
def _authenticate():
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return _unauthorized("send the POS key as 'Authorization: Bearer pos_...'")
    with current_hub().db.session() as session:
        counter = keys.authenticate(session, presented.strip())
    if counter is None:
        return _unauthorized("the POS key is unknown or revoked, or its connection is disabled")
    g.counter = counter
    return None


def _unauthorized(message: str):
    return _error(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="pos"'})


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    status = error.code or 500
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
    codes[413] = "body_too_large"
    return _error(status, codes.get(status, "error"), error.description or error.name)


@bp.errorhandler(HubError)
def _hub_error(error: HubError):
    return _error(error.status, error.code, error.message, error.details)


def _body() -> Any:
    return request.get_json(silent=True)


def _region() -> str:
    return current_hub().config["HUB_DEFAULT_REGION"]


# -- the counter itself ----------------------------------------------------------


@bp.get("/me")
def me():
    """Who this key is: the shop, the location, the currency, the redemption terms."""
    counter = g.counter
    return jsonify(
        {
            "connection_id": counter.connection_id,
            "location": counter.location,
            "shop": counter.shop,
            "currency": counter.currency,
            "timezone": counter.timezone,
            "redemption": {
                k: v for k, v in redemption_terms(counter, 0).items() if k != "max_points"
            },
        }
    )


# -- members ---------------------------------------------------------------------


def _card(session, found: members.Found) -> dict[str, Any]:
    vouchers = members.usable_vouchers(session, found.member.id)
    return members.card(g.counter, found, vouchers)


@bp.get("/members")
def lookup():
    """Find a member by ``q`` (phone, member code or scanned QR), ``phone`` or ``code``."""
    text = request.args.get("q") or request.args.get("phone") or request.args.get("code")
    return _lookup(text)


@bp.post("/members/lookup")
def lookup_by_body():
    """Find a member by ``{"q": ...}``: the same, with the phone kept out of URLs and logs."""
    body = _body()
    text = body.get("q") if isinstance(body, dict) else None
    return _lookup(text if isinstance(text, str) else None)


def _lookup(text: str | None):
    lookup = members.read_lookup(text, _region())
    with current_hub().db.session() as session:
        found = members.find(session, g.counter, lookup)
        return jsonify({"member": _card(session, found)})


@bp.post("/members")
def enrol():
    """Enrol a customer at the counter (phone required); an existing phone answers 200."""
    data = load(EnrolSchema(), _body())

    def work(session):
        enrolment = members.enrol(session, g.counter, data, _region())
        found = members.find(session, g.counter, members.Lookup(None, enrolment.member.code))
        return {"created": enrolment.created, "member": _card(session, found)}

    answer = write(current_hub(), work)
    return jsonify(answer), 201 if answer["created"] else 200


@bp.get("/members/<code>")
def member_by_code(code: str):
    with current_hub().db.session() as session:
        found = members.find_by_code(session, g.counter, code)
        return jsonify({"member": _card(session, found)})


@bp.get("/members/<code>/qr.svg")
def member_qr(code: str):
    """The member code as a QR code (SVG) for a card or a receipt."""
    with current_hub().db.session() as session:
        found = members.find_by_code(session, g.counter, code)
    return Response(
        qr_document(found.member.code),
        mimetype="image/svg+xml",
        headers={"Cache-Control": "private, max-age=3600"},
    )


def qr_document(code: str) -> bytes:
    """A standalone SVG of the member code's QR (the same content the widget shows)."""
    buffer = io.BytesIO()
    segno.make_qr(code, error="m").save(buffer, kind="svg", scale=4, border=2, dark="#111")
    return buffer.getvalue()


@bp.post("/members/<code>/redemptions")
def redeem(code: str):
    """Spend the member's points on a reward: a voucher, once per ``request_id``."""
    data = load(RedemptionSchema(), _body())
    hub = current_hub()

    def work(session):
        found = members.find_by_code(session, g.counter, code)
        return rewards.redeem_at_counter(
            hub, session, g.counter, found, data["reward_id"], data["request_id"]
        )

    answer = write(hub, work)
    return jsonify(answer), 200 if answer["replayed"] else 201


@bp.get("/rewards")
def reward_catalog():
    with current_hub().db.session() as session:
        return jsonify({"data": rewards.catalog(session, g.counter)})


# -- sales -----------------------------------------------------------------------


def sale_view(session, result_sale, earned: int, member) -> dict[str, Any]:
    """A sale as the counter API answers: receipt, member, points earned, redeemed, reversed."""
    balance = members.balance_of(session, member.id) if member is not None else None
    return {
        "receipt": result_sale.receipt,
        "order_id": result_sale.order_id,
        "sold_at": result_sale.sold_at.isoformat(),
        "voided": result_sale.voided_at is not None,
        "member": ({"id": member.id, "code": member.code, "name": member.name} if member else None),
        "points": {
            "earned": earned,
            "reversed": sales.points_reversed(session, result_sale.order_id),
            "redeemed": result_sale.points_redeemed,
            "discount": members.money(result_sale.points_discount),
            "balance": ({"available": balance[0], "pending": balance[1]} if balance else None),
        },
    }


@bp.post("/sales")
def record_sale():
    """Record a sale once per receipt: 201 the first time, 200 with the same answer after."""
    sale = load(SaleSchema(), _body())
    hub = current_hub()

    def work(session):
        result = sales.record_sale(hub, session, g.counter, sale)
        answer = sale_view(session, result.sale, result.points_earned, result.member)
        return {**answer, "created": result.created}

    answer = write(hub, work)
    return jsonify(answer), 201 if answer["created"] else 200


@bp.get("/sales/<path:receipt>")
def get_sale(receipt: str):
    with current_hub().db.session() as session:
        row = sales.sale_by_receipt(session, g.counter, receipt)
        member = session.get(Member, row.member_id) if row.member_id else None
        return jsonify(sale_view(session, row, sales.points_earned(session, row.order_id), member))


@bp.post("/sales/<path:receipt>/void")
def void(receipt: str):
    """Void a sale: earned points reversed, redeemed points returned; again changes nothing."""
    data = load(VoidSchema(), _body() or {})
    hub = current_hub()

    def work(session):
        result = sales.void_sale(hub, session, g.counter, receipt, reason=data["reason"])
        member = session.get(Member, result.sale.member_id) if result.sale.member_id else None
        earned = sales.points_earned(session, result.sale.order_id)
        answer = sale_view(session, result.sale, earned, member)
        answer["points"]["returned"] = result.points_returned
        return {**answer, "created": result.created}

    return jsonify(write(hub, work)), 200


@bp.post("/sales/<path:receipt>/refunds")
def refund(receipt: str):
    """Record money given back on a sale, once per refund id; its points share is reversed."""
    data = load(RefundSchema(), _body())
    hub = current_hub()
    result = write(
        hub,
        lambda session: sales.refund_sale(
            hub,
            session,
            g.counter,
            receipt,
            refund_id=data["refund_id"],
            amount=data["amount"],
            refunded_at=data["refunded_at"],
            note=data["note"],
        ),
    )
    answer = {
        "receipt": receipt,
        "refund_id": result.refund_id,
        "created": result.created,
        "points_reversed": result.points_reversed,
    }
    return jsonify(answer), 201 if result.created else 200


# -- vouchers --------------------------------------------------------------------


@bp.post("/vouchers/validate")
def validate_voucher():
    """Check a code before the sale; always 200, ``valid`` false with a ``reason`` if not."""
    data = load(VoucherCheckSchema(), _body())
    with current_hub().db.session() as session:
        return jsonify(rewards.check_voucher(session, g.counter, data["code"], data["amount"]))


@bp.post("/vouchers/burn")
def burn_voucher():
    """Use a code on a receipt; 409 when another receipt used it first."""
    data = load(VoucherBurnSchema(), _body())
    answer = write(
        current_hub(),
        lambda session: rewards.burn_voucher(
            session, g.counter, data["code"], data["receipt"], data["amount"]
        ),
    )
    return jsonify(answer), 200
