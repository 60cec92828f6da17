"""The connector's HTTP surface: OpenID Connect install, the webhook check, the widget script.

- ``POST /api/v1/haravan/connect`` (merchant API key) answers the URL to send
  the shop owner's browser to; ``GET /haravan/oauth/start`` sets a signed nonce
  cookie and redirects to ``accounts.haravan.com/connect/authorize`` (code
  flow, ``response_mode=query``, the login and install scopes together);
  ``GET /haravan/oauth/callback`` checks the state against the cookie, posts
  the code to ``/connect/token``, reads the shop (``orgid``) and the role from
  the ``id_token`` and stores the connection (docs.haravan.com "Create app",
  "Login and Logout HaraAccount") [V]. The id_token comes straight from the
  token endpoint over TLS, so its claims are read without checking its
  signature, as OpenID Connect Core 3.1.3.7 allows; its ``nonce`` is checked.
- ``GET /webhooks/haravan`` (and ``/webhooks/haravan/<id>`` for a private
  webhook): Haravan's subscription check, ``hub.mode=subscribe``,
  ``hub.verify_token`` and ``hub.challenge``; the hub echoes the challenge when
  the token is the app's Verify Token [V: the doc says Haravan GETs the URL
  with a Verify Token; parameter names C].
- ``GET /haravan/widget.js?connection=<id>``: the ScriptTag's target.
"""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import urlencode

from flask import Blueprint
from flask import Response
from flask import g
from flask import jsonify
from flask import redirect
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer
from marshmallow import Schema
from marshmallow import fields
from sqlalchemy import select

from connectors.haravan.client import TIMEOUT
from connectors.haravan.installs import HaravanInstall
from connectors.haravan.store import ACCOUNTS_URL
from connectors.haravan.store import DEFAULT_SCOPES
from connectors.haravan.store import NAME
from connectors.haravan.store import app_config
from hub import Connection
from hub import Hub
from hub import NotFound
from hub import PermanentError
from hub import RetryLater
from hub import Unauthorized
from hub import ValidationError
from hub import claim_install
from hub import current_hub
from hub import outside_http
from hub import public_url
from hub import record_audit

bp = Blueprint("haravan", __name__)
api = ApiBlueprint("haravan_api", __name__, url_prefix="/haravan", description="Haravan shops")

STATE_MAX_AGE = 600
NONCE_COOKIE = "hub_haravan_oauth"


def _signer(hub: Hub) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(hub.config["HUB_SECRET_KEY"], salt="haravan-oauth")


def _app(hub: Hub) -> dict:
    config = app_config(hub)
    if not config.get("client_id") or not config.get("client_secret"):
        raise ValidationError(
            "the Haravan app is not configured: set HUB_PLUGINS_CONFIG['haravan'] client_id and "
            "client_secret (or connect a private app's token through POST /api/v1/connections)",
            code="haravan_app_not_configured",
        )
    return config


class HaravanConnectSchema(Schema):
    name = fields.Str(load_default="")


class HaravanConnectAnswerSchema(Schema):
    authorize_url = fields.Str()


class HaravanQueuedSchema(Schema):
    connection_id = fields.Int()
    queued = fields.Str()


@api.route("/connect")
class Connect(MethodView):
    @api.arguments(HaravanConnectSchema)
    @api.response(200, HaravanConnectAnswerSchema)
    def post(self, data):
        """Start connecting a Haravan shop: answers the URL to open in the owner's browser."""
        hub = current_hub()
        _app(hub)
        state = _signer(hub).dumps({"m": g.merchant_id, "name": data["name"]})
        return {"authorize_url": f"{public_url(hub, 'Haravan')}/{NAME}/oauth/start?state={state}"}


def _queue(hub: Hub, what: str, connection_id: int) -> None:
    path = {"setup": "setup.setup_connection", "backfill": "sync.backfill_job"}[what]
    hub.jobs.enqueue(
        f"connectors.haravan.{path}",
        connection_id,
        job_id=f"haravan-{what}-{connection_id}",
        retry=hub.jobs.default_retry(),
        meta={"plugin": NAME, "connection_id": connection_id},
    )


def _own(hub: Hub, connection_id: int) -> None:
    with hub.db.session() as session:
        connection = session.get(Connection, connection_id)
    if (
        connection is None
        or connection.connector != NAME
        or connection.merchant_id != g.merchant_id
        or connection.status == "deleted"
    ):
        raise NotFound(f"haravan connection {connection_id} not found", code="connection_not_found")


@api.route("/connections/<int:connection_id>/<any(setup, backfill):what>")
class Queue(MethodView):
    @api.response(202, HaravanQueuedSchema)
    def post(self, connection_id, what):
        """Queue the shop setup (webhooks, widget) or the history import for a connection."""
        hub = current_hub()
        _own(hub, connection_id)
        _queue(hub, what, connection_id)
        return {"connection_id": connection_id, "queued": what}


@bp.get(f"/{NAME}/oauth/start")
def oauth_start():
    hub = current_hub()
    config = _app(hub)
    try:
        state = _signer(hub).loads(request.args.get("state", ""), max_age=STATE_MAX_AGE)
    except BadSignature:
        raise Unauthorized("this connect link is invalid or expired; start again") from None
    nonce, csrf = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    accounts = (config.get("accounts_url") or ACCOUNTS_URL).rstrip("/")
    query = urlencode(
        {
            "response_mode": "query",
            "response_type": "code",
            "scope": config.get("scopes") or DEFAULT_SCOPES,
            "client_id": config["client_id"],
            "redirect_uri": f"{public_url(hub, 'Haravan')}/{NAME}/oauth/callback",
            "nonce": nonce,
            "state": csrf,
        }
    )
    response = redirect(f"{accounts}/connect/authorize?{query}")
    response.set_cookie(
        NONCE_COOKIE,
        _signer(hub).dumps({**state, "nonce": nonce, "csrf": csrf}),
        max_age=STATE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
        path=f"/{NAME}/oauth",
    )
    return response


@bp.get(f"/{NAME}/oauth/callback")
def oauth_callback():
    hub = current_hub()
    config = _app(hub)
    try:
        state = _signer(hub).loads(request.cookies.get(NONCE_COOKIE, ""), max_age=STATE_MAX_AGE)
    except BadSignature:
        raise Unauthorized(
            "the connect attempt expired or was started in another browser; start again",
            code="bad_state",
        ) from None
    if not secrets.compare_digest(state["csrf"], request.args.get("state", "")):
        raise Unauthorized("the state does not match this connect attempt", code="bad_state")
    tokens = _exchange(hub, config, request.args.get("code", ""))
    claims = id_token_claims(tokens.get("id_token", ""))
    if claims.get("nonce") != state["nonce"]:
        raise Unauthorized("the id_token's nonce does not match this attempt", code="bad_nonce")
    roles = claims.get("role") or []
    roles = [roles] if isinstance(roles, str) else roles
    if roles and "admin" not in roles:
        raise ValidationError(
            "only the shop's owner or an admin can connect it: sign in with that account",
            code="not_shop_admin",
        )
    org_id = str(claims.get("orgid") or "")
    if not org_id:
        raise ValidationError("Haravan's id_token names no shop (orgid)", code="no_orgid")
    connection_id = _store(hub, state, org_id, claims.get("orgname") or "", tokens)
    _queue(hub, "setup", connection_id)
    answer = jsonify({"connection_id": connection_id, "org_id": org_id, "status": "connected"})
    answer.delete_cookie(NONCE_COOKIE, path=f"/{NAME}/oauth")
    return answer


def id_token_claims(token: str) -> dict:
    """Return the claims of an id_token received from the token endpoint."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise ValidationError(
            "Haravan answered no readable id_token", code="bad_id_token"
        ) from None


def _exchange(hub: Hub, config: dict, code: str) -> dict:
    accounts = (config.get("accounts_url") or ACCOUNTS_URL).rstrip("/")
    try:
        response = outside_http(hub).post(
            f"{accounts}/connect/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": f"{public_url(hub, 'Haravan')}/{NAME}/oauth/callback",
                "client_id": config["client_id"],
                "client_secret": config["client_secret"],
            },
            timeout=TIMEOUT,
        )
    except (RetryLater, PermanentError) as exc:
        raise ValidationError(f"Haravan did not answer the token exchange ({exc})") from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if (
        response.status_code != 200
        or not isinstance(answer, dict)
        or not answer.get("access_token")
    ):
        raise ValidationError(
            f"Haravan refused the code ({response.status_code}); start the connection again",
            code="token_exchange_failed",
        )
    return answer


def _store(hub: Hub, state: dict, org_id: str, org_name: str, tokens: dict) -> int:
    with hub.db.transaction() as session:
        rows = session.scalars(
            select(Connection).where(
                Connection.merchant_id == state["m"],
                Connection.connector == NAME,
                Connection.status != "deleted",
            )
        ).all()
        connection = next((c for c in rows if (c.settings or {}).get("org_id") == org_id), None)
        if connection is None:
            connection = Connection(
                merchant_id=state["m"],
                connector=NAME,
                name=state.get("name") or org_name or f"Haravan {org_id}",
                settings={},
                secrets_encrypted=hub.secrets.encrypt({}),
            )
            session.add(connection)
            session.flush()
        stored = hub.secrets.decrypt(connection.secrets_encrypted)
        stored["access_token"] = tokens["access_token"]
        if tokens.get("refresh_token"):
            stored["refresh_token"] = tokens["refresh_token"]
        connection.secrets_encrypted = hub.secrets.encrypt(stored)
        connection.settings = {
            **(connection.settings or {}),
            "org_id": org_id,
            "org_name": org_name,
            "uninstalled": False,
        }
        connection.status = "active"
        claim_install(session, HaravanInstall, org_id, connection.id)
        record_audit(
            session,
            state["m"],
            actor="haravan_oauth",
            action="connection.installed",
            object_type="connection",
            object_id=connection.id,
            data={"org_id": org_id},
        )
        return connection.id


@bp.get(f"/webhooks/{NAME}")
@bp.get(f"/webhooks/{NAME}/<int:connection_id>")
def verify_challenge(connection_id: int | None = None):
    """Answer Haravan's subscription check: echo ``hub.challenge`` for the right token."""
    hub = current_hub()
    expected = app_config(hub).get("verify_token") or ""
    if connection_id is not None:
        with hub.db.session() as session:
            connection = session.get(Connection, connection_id)
        if connection is None or connection.connector != NAME or connection.status != "active":
            return Response("unknown connection", status=404, mimetype="text/plain")
        expected = (connection.settings or {}).get("verify_token") or expected
    args = request.args
    token = args.get("hub.verify_token", "")
    if (
        args.get("hub.mode") != "subscribe"
        or not expected
        or not secrets.compare_digest(token.encode(), expected.encode())
    ):
        return Response("verify token mismatch", status=403, mimetype="text/plain")
    return Response(args.get("hub.challenge", ""), status=200, mimetype="text/plain")


@bp.get(f"/{NAME}/widget.js")
def widget_script():
    """The ScriptTag's target: add the widget loader for one connection."""
    hub = current_hub()
    try:
        connection_id = int(request.args.get("connection", ""))
    except ValueError:
        return Response("/* missing connection */", mimetype="application/javascript", status=400)
    loader = json.dumps(f"{public_url(hub, 'Haravan')}/widget/v1/loader.js")
    body = (
        "(function () {\n"
        '  var s = document.createElement("script");\n'
        f"  s.src = {loader};\n"
        "  s.async = true;\n"
        f'  s.setAttribute("data-connection", "{connection_id}");\n'
        "  document.head.appendChild(s);\n"
        "})();\n"
    )
    response = Response(body, mimetype="application/javascript")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
