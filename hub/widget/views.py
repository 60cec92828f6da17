"""The widget's HTTP surface: the loader script and a small JSON API for storefronts.

Every answer to a storefront carries CORS headers only for the connection's
own storefront origins (never a wildcard). A visitor is a member only with a
valid token signed by the store; anything else gets the guest view.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import weakref
from pathlib import Path

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import g
from flask import request
from sqlalchemy import select

from hub.api.errors import error_response
from hub.connections import connection_secrets
from hub.core import current_hub
from hub.errors import HubError
from hub.models import Connection
from hub.models import Member
from hub.models import MemberIdentity
from hub.models import Merchant
from hub.widget.tokens import TokenError
from hub.widget.tokens import verify

log = logging.getLogger(__name__)

bp = Blueprint("widget", __name__, url_prefix="/widget/v1")
LOADER = Path(__file__).parent / "static" / "loader.js"
LOCALES = ("vi", "en")


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


def _connection(connection_id: int) -> Connection | None:
    hub = current_hub()
    with hub.db.session() as session:
        connection = session.get(Connection, connection_id)
        if connection is None or connection.status != "active":
            return None
        session.expunge(connection)
        return connection


def _allowed_origin(connection: Connection) -> str | None:
    origin = request.headers.get("Origin")
    if not origin:
        return None
    allowed = (connection.settings or {}).get("storefront_origins") or []
    return origin if origin.rstrip("/") in [o.rstrip("/") for o in allowed] else None


def _with_cors(response: Response, origin: str | None) -> Response:
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Access-Control-Expose-Headers"] = "ETag"
    response.headers["Vary"] = "Origin, Authorization"
    return response


def _visitor(hub, connection: Connection) -> tuple[Member | None, str]:
    """Return the member the token names (or None) and the rate-limit key of the visitor."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    ip = request.headers.get("X-Forwarded-For", request.remote_addr or "").split(",")[0].strip()
    answer = hub.pm.hook.widget_identity(hub=hub, connection=connection, request=request)
    if answer is not None:
        return answer, f"c{connection.id}:m{answer.id}"
    if not token:
        return None, f"c{connection.id}:ip{ip}"
    secret = connection_secrets(hub, connection).get("widget_secret")
    if not secret:
        log.warning("connection %s has no widget secret; token ignored", connection.id)
        return None, f"c{connection.id}:ip{ip}"
    try:
        claims = verify(token, secret)
    except TokenError as exc:
        log.info("widget token refused on connection %s: %s", connection.id, exc)
        return None, f"c{connection.id}:ip{ip}"
    with hub.db.session() as session:
        member = session.scalars(
            select(Member)
            .join(MemberIdentity, MemberIdentity.member_id == Member.id)
            .where(
                MemberIdentity.connection_id == connection.id,
                MemberIdentity.external_id == claims.customer_id,
                Member.status == "active",
            )
        ).first()
        if member is not None:
            session.expunge(member)
    return member, f"c{connection.id}:v{claims.customer_id}"


def _limited(hub, connection: Connection, visitor_key: str) -> bool:
    limits = (connection.settings or {}).get("widget_rate_limits") or {}
    per_visitor = int(limits.get("visitor_per_minute", 120))
    per_connection = int(limits.get("connection_per_minute", 30000))
    limiter = hub.widget_limiter
    return not (
        limiter.allow(visitor_key, per_visitor)
        and limiter.allow(f"c{connection.id}", per_connection)
    )


def _locale(merchant_locale: str) -> str:
    wanted = (request.args.get("locale") or "").lower()[:2]
    return wanted if wanted in LOCALES else merchant_locale if merchant_locale in LOCALES else "vi"


@bp.route("/c/<int:connection_id>/state", methods=["GET", "OPTIONS"])
def state(connection_id: int):
    """The panel's data: guest view, or the member's own view with a valid token."""
    connection = _connection(connection_id)
    if connection is None:
        return error_response(404, "not_found", f"no widget for connection {connection_id}")
    origin = _allowed_origin(connection)
    if request.method == "OPTIONS":
        return _with_cors(Response(status=204), origin)
    hub = current_hub()
    member, visitor_key = _visitor(hub, connection)
    if _limited(hub, connection, visitor_key):
        return _with_cors(
            error_response(
                429,
                "rate_limited",
                "too many requests; try again in a minute",
                headers={"Retry-After": "60"},
            ),
            origin,
        )
    body = _state_body(hub, connection, member)
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    etag = hashlib.sha256(raw).hexdigest()[:24]
    if request.if_none_match.contains(etag):
        return _with_cors(Response(status=304, headers={"ETag": f'"{etag}"'}), origin)
    response = Response(raw, mimetype="application/json")
    response.headers["ETag"] = f'"{etag}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return _with_cors(response, origin)


# Per hub (each app), per connection: (expires at, view).
_PROGRAM_VIEWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
PROGRAM_VIEW_SECONDS = 30


def _program_view(hub, session, merchant, connection) -> dict:
    """The guest part of the panel, kept per connection for a few seconds per process.

    It is the same for every visitor of a storefront, so it is built once per
    ``PROGRAM_VIEW_SECONDS``; a change to the program, tiers or rewards shows
    within that time.
    """
    from hub.widget.state import program_view

    now = time.monotonic()
    views = _PROGRAM_VIEWS.setdefault(hub, {})
    hit = views.get(connection.id)
    if hit is not None and hit[0] > now:
        return hit[1]
    view = program_view(hub, session, merchant, connection)
    views[connection.id] = (now + PROGRAM_VIEW_SECONDS, view)
    return view


def _state_body(hub, connection: Connection, member: Member | None) -> dict:
    from hub.widget.state import member_version
    from hub.widget.state import member_view

    with hub.db.session() as session:
        merchant = session.get(Merchant, connection.merchant_id)
        locale = _locale(merchant.locale)
        body = dict(_program_view(hub, session, merchant, connection))
        body["locale"] = locale
        body["member"] = None
        if member is not None:
            version = member_version(session, member.id)
            cached = hub.widget_cache.get(merchant.id, member.id, "member")
            if cached is None or cached.get("version") != version:
                cached = member_view(hub, session, session.get(Member, member.id), connection)
                extra = {}
                for result in hub.pm.hook.widget_data(
                    hub=hub, member=member, connection=connection
                ):
                    extra.update(result or {})
                cached["extra"] = extra
                cached["version"] = version
                hub.widget_cache.put(merchant.id, member.id, "member", cached)
            body["member"] = cached
    return body


@bp.route("/c/<int:connection_id>/redeem", methods=["POST", "OPTIONS"])
def redeem(connection_id: int):
    """Redeem a reward for the signed-in member, through the same guarded path as the API."""
    connection = _connection(connection_id)
    if connection is None:
        return error_response(404, "not_found", f"no widget for connection {connection_id}")
    origin = _allowed_origin(connection)
    if request.method == "OPTIONS":
        return _with_cors(Response(status=204), origin)
    hub = current_hub()
    member, visitor_key = _visitor(hub, connection)
    if _limited(hub, connection, visitor_key):
        return _with_cors(error_response(429, "rate_limited", "too many requests"), origin)
    if member is None:
        return _with_cors(
            error_response(401, "sign_in_required", "sign in at the store to redeem rewards"),
            origin,
        )
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


def _redeem(hub, member: Member, reward_id: int) -> Response:
    from hub.rewards import get_reward
    from hub.rewards import redeem as redeem_reward

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
