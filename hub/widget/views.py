"""The widget's HTTP surface: the loader script and a small JSON API for storefronts.

Every answer to a storefront carries CORS headers only for the connection's
own storefront origins (never a wildcard). A visitor is a member only with a
valid token signed by the store; anything else gets the guest view.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import request

from hub.api.errors import error_response
from hub.core import current_hub
from hub.errors import HubError
from hub.members.directory import member_by_identity
from hub.models import Member
from hub.widget.storefronts import Storefront
from hub.widget.tokens import TokenError
from hub.widget.tokens import verify

log = logging.getLogger(__name__)

bp = Blueprint("widget", __name__, url_prefix="/widget/v1")
LOADER = Path(__file__).parent / "static" / "loader.js"


@bp.get("/loader.js")
def loader():
    """The one widget script; cacheable, revalidated by its ETag."""
    body = LOADER.read_bytes()
    etag = hashlib.sha256(body).hexdigest()[:20]
    if request.if_none_match.contains(etag):
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    response = Response(body, mimetype="application/javascript")
    response.headers["Cache-Control"] = "public, max-age=300, stale-while-revalidate=86400"
    response.headers["ETag"] = f'"{etag}"'
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public script, no credentials
    return response


def _storefront(hub, connection_id: int) -> Storefront | None:
    storefronts = hub.widget_storefronts
    return storefronts.cached(connection_id) or storefronts.load(connection_id)


def _with_cors(response: Response, origin: str | None) -> Response:
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Access-Control-Expose-Headers"] = "ETag"
    response.headers["Vary"] = "Origin, Authorization"
    return response


def _no_widget(connection_id: int) -> Response:
    return error_response(404, "not_found", f"no widget for connection {connection_id}")


@dataclass(frozen=True)
class _Visitor:
    """Who is asking: a member the platform vouched for, a signed customer id, or a guest."""

    limit_key: str
    member: Member | None = None  # vouched for by the connector's ``widget_identity``
    customer_id: str | None = None  # named by a valid store token


def _visitor(hub, storefront: Storefront) -> _Visitor:
    connection = storefront.connection
    answer = hub.connector(connection.connector).widget_identity(hub, connection, request)
    if answer is not None:
        return _Visitor(f"c{connection.id}:m{answer.id}", member=answer)
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if token:
        if not storefront.secret:
            log.warning("connection %s has no widget secret; token ignored", connection.id)
        else:
            try:
                claims = verify(token, storefront.secret)
            except TokenError as exc:
                log.info("widget token refused on connection %s: %s", connection.id, exc)
            else:
                customer = claims.customer_id
                return _Visitor(f"c{connection.id}:v{customer}", customer_id=customer)
    ip = request.headers.get("X-Forwarded-For", request.remote_addr or "").split(",")[0].strip()
    return _Visitor(f"c{connection.id}:ip{ip}")


def _rate_limited(origin: str | None) -> Response:
    return _with_cors(
        error_response(
            429,
            "rate_limited",
            "too many requests; try again in a minute",
            headers={"Retry-After": "60"},
        ),
        origin,
    )


@bp.route("/c/<int:connection_id>/state", methods=["GET", "OPTIONS"])
def state(connection_id: int):
    """The panel's data: guest view, or the member's own view with a valid token.

    A repeat visit reads the cache once, in one pipeline: the merchant's stamp,
    the rate-limit counts, who the visitor is and their panel (see
    ``hub.widget.cache``); the database is read only when something changed.
    """
    hub = current_hub()
    storefront = _storefront(hub, connection_id)
    if storefront is None or not storefront.active:
        return _no_widget(connection_id)
    origin = storefront.allowed_origin(request.headers.get("Origin"))
    if request.method == "OPTIONS":
        return _with_cors(Response(status=204), origin)
    visitor = _visitor(hub, storefront)
    connection_key = f"c{connection_id}"
    cache = hub.widget_cache
    who = (connection_id, visitor.customer_id) if visitor.customer_id is not None else None
    member_id = visitor.member.id if visitor.member is not None else None
    glance = cache.glance(
        storefront.merchant_id, [visitor.limit_key, connection_key], who=who, member_id=member_id
    )
    if glance.reachable and glance.stamp != storefront.stamp:
        storefront = hub.widget_storefronts.load(connection_id)  # settings changed: reload
        if storefront is None or not storefront.active:
            return _no_widget(connection_id)
        origin = storefront.allowed_origin(request.headers.get("Origin"))
    if glance.counts and (
        glance.counts[0] > storefront.per_visitor or glance.counts[1] > storefront.per_connection
    ):
        return _rate_limited(origin)
    panel = glance.panel
    if panel is None and (who is not None or member_id is not None):
        panel = _build_panel(hub, storefront, glance, who)
    raw = storefront.head(request.args.get("locale", "")) + (panel or b"null") + b"}"
    etag = hashlib.sha256(raw).hexdigest()[:24]
    if request.if_none_match.contains(etag):
        return _with_cors(Response(status=304, headers={"ETag": f'"{etag}"'}), origin)
    response = Response(raw, mimetype="application/json")
    response.headers["ETag"] = f'"{etag}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return _with_cors(response, origin)


def _build_panel(hub, storefront: Storefront, glance, who) -> bytes | None:
    """Read a member's panel from the database and keep it; None for a guest."""
    from hub.referrals.codes import ensure_code
    from hub.widget.state import member_view
    from hub.widget.state import panel_lifetime

    cache = hub.widget_cache
    merchant_id = storefront.merchant_id
    member_id, generation = glance.member_id, glance.generation
    for _attempt in range(2):
        if member_id is None:
            with hub.db.session() as session:
                found = member_by_identity(session, storefront.connection.id, who[1])
            if found is None:
                return None  # a customer the hub does not know (yet): the guest view
            # The generation is read before the data, so a change after this read wins.
            member_id, generation = found.id, cache.generation(merchant_id, found.id)
        referral_code = ensure_code(hub, merchant_id, member_id)
        with hub.db.session() as session:
            member = session.get(Member, member_id)
            if member is None or member.status != "active" or member.merchant_id != merchant_id:
                if who is None:
                    return None
                cache.forget_visitor(*who)  # merged away or erased: look the visitor up again
                member_id = None
                continue
            view = member_view(
                hub, session, member, storefront.connection, referral_code=referral_code
            )
            extra = {}
            for result in hub.pm.hook.widget_data(
                hub=hub, member=member, connection=storefront.connection
            ):
                extra.update(result or {})
            view["extra"] = extra
            ttl = panel_lifetime(session, member, view)
        panel = json.dumps(view, separators=(",", ":"), ensure_ascii=False, default=str).encode()
        cache.remember(merchant_id, member_id, generation, panel, who=who, ttl=ttl)
        return panel
    return None


@bp.route("/c/<int:connection_id>/redeem", methods=["POST", "OPTIONS"])
def redeem(connection_id: int):
    """Redeem a reward for the signed-in member, through the same guarded path as the API."""
    hub = current_hub()
    storefront = hub.widget_storefronts.load(connection_id)  # a write: settings read afresh
    if storefront is None or not storefront.active:
        return _no_widget(connection_id)
    origin = storefront.allowed_origin(request.headers.get("Origin"))
    if request.method == "OPTIONS":
        return _with_cors(Response(status=204), origin)
    member, refusal = _signed_member(hub, storefront, "redeem rewards")
    if refusal is not None:
        return _with_cors(refusal, origin)
    payload = request.get_json(silent=True) or {}
    reward_id = payload.get("reward_id")
    if not isinstance(reward_id, int):
        return _with_cors(
            error_response(
                422, "validation_error", "reward_id must be a number", {"reward_id": ["required"]}
            ),
            origin,
        )
    return _with_cors(_redeem(hub, member, reward_id), origin)


def _signed_member(hub, storefront: Storefront, doing: str):
    """The member a write comes from, or the answer refusing it (rate limit, not signed in)."""
    connection_id = storefront.connection.id
    visitor = _visitor(hub, storefront)
    limiter = hub.widget_limiter
    if not (
        limiter.allow(visitor.limit_key, storefront.per_visitor)
        and limiter.allow(f"c{connection_id}", storefront.per_connection)
    ):
        return None, error_response(429, "rate_limited", "too many requests")
    member = visitor.member
    if member is None and visitor.customer_id is not None:
        with hub.db.session() as session:
            member = member_by_identity(session, connection_id, visitor.customer_id)
    if member is None:
        return None, error_response(401, "sign_in_required", f"sign in at the store to {doing}")
    return member, None


@bp.route("/c/<int:connection_id>/referral", methods=["POST", "OPTIONS"])
def referral(connection_id: int):
    """Tie the signed-in visitor, as a friend, to the referral code they arrived with."""
    from hub.db import utcnow
    from hub.referrals.claims import claim_referral

    hub = current_hub()
    storefront = hub.widget_storefronts.load(connection_id)
    if storefront is None or not storefront.active:
        return _no_widget(connection_id)
    origin = storefront.allowed_origin(request.headers.get("Origin"))
    if request.method == "OPTIONS":
        return _with_cors(Response(status=204), origin)
    member, refusal = _signed_member(hub, storefront, "use a referral link")
    if refusal is not None:
        return _with_cors(refusal, origin)
    code = (request.get_json(silent=True) or {}).get("code")
    if not isinstance(code, str) or not 1 <= len(code.strip()) <= 32:
        return _with_cors(
            error_response(
                422,
                "validation_error",
                "code must be the referral code from the link",
                {"code": ["required, 1 to 32 characters"]},
            ),
            origin,
        )
    try:
        with hub.db.transaction() as session:
            friend = session.get(Member, member.id)
            found = claim_referral(session, friend, code, connection_id=connection_id, now=utcnow())
            answer = {"status": found.status, "reason": found.reason}
    except HubError as exc:
        return _with_cors(error_response(exc.status, exc.code, exc.message, exc.details), origin)
    body = json.dumps(answer)
    return _with_cors(current_app.response_class(body, mimetype="application/json"), origin)


def _redeem(hub, member: Member, reward_id: int) -> Response:
    from hub.rewards.catalog import get_reward
    from hub.rewards.catalog import redeem as redeem_reward

    g.actor = f"widget:member:{member.id}"
    try:
        with hub.db.transaction() as session:
            row = session.get(Member, member.id)
            reward = get_reward(session, member.merchant_id, reward_id)
            result = redeem_reward(hub, session, row, reward, actor=g.actor)
            voucher = result.voucher
            answer = {
                "voucher": {
                    "code": voucher.code,
                    "name": voucher.reward_name,
                    "expires_at": voucher.expires_at.isoformat() if voucher.expires_at else None,
                },
                "points": {"available": result.balance},
            }
    except HubError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    hub.widget_cache.drop(member.merchant_id, member.id)
    response = current_app.response_class(
        json.dumps(answer, ensure_ascii=False), status=201, mimetype="application/json"
    )
    return response
