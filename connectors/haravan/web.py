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
from flask import request
from marshmallow import Schema
from marshmallow import fields

from connectors.haravan.client import TIMEOUT
from connectors.haravan.plugin import HARAVAN
from connectors.haravan.store import ACCOUNTS_URL
from connectors.haravan.store import DEFAULT_SCOPES
from connectors.haravan.store import NAME
from connectors.haravan.store import app_config
from hub import Connection
from hub import Hub
from hub import StoreWeb
from hub import Unauthorized
from hub import ValidationError
from hub import current_hub

WEB = StoreWeb(
    HARAVAN, credentials=("client_id", "client_secret"), private_app="a private app's token"
)
bp = Blueprint("haravan", __name__)


class HaravanConnectSchema(Schema):
    name = fields.Str(load_default="")


def connect_link(hub: Hub, merchant_id: int, data: dict) -> str:
    """The link that starts a Haravan install for the merchant (API and console alike)."""
    return WEB.start_link(hub, merchant_id, name=data["name"])


api = WEB.api_blueprint(HaravanConnectSchema, connect_link)


def _accounts(config: dict) -> str:
    return (config.get("accounts_url") or ACCOUNTS_URL).rstrip("/")


@bp.get(f"/{NAME}/oauth/start")
def oauth_start():
    """Set the nonce cookie and send the browser to HaraAccounts' authorize page."""
    return WEB.start_authorize(_authorize_url, nonces=("nonce", "csrf"))


def _authorize_url(hub: Hub, config: dict, state: dict, nonces: dict[str, str]) -> str:
    query = urlencode(
        {
            "response_mode": "query",
            "response_type": "code",
            "scope": config.get("scopes") or DEFAULT_SCOPES,
            "client_id": config["client_id"],
            "redirect_uri": WEB.url(hub, "oauth/callback"),
            "nonce": nonces["nonce"],
            "state": nonces["csrf"],
        }
    )
    return f"{_accounts(config)}/connect/authorize?{query}"


@bp.get(f"/{NAME}/oauth/callback")
def oauth_callback():
    hub = current_hub()
    config = WEB.app(hub)
    state = WEB.attempt(hub)
    WEB.check_nonce(state["csrf"], request.args.get("state", ""))
    tokens = WEB.exchange(
        hub,
        f"{_accounts(config)}/connect/token",
        "Haravan",
        timeout=TIMEOUT,
        data={
            "grant_type": "authorization_code",
            "code": request.args.get("code", ""),
            "redirect_uri": WEB.url(hub, "oauth/callback"),
            "client_id": config["client_id"],
            "client_secret": config["client_secret"],
        },
    )
    claims = id_token_claims(tokens.get("id_token", ""))
    if claims.get("nonce") != state["nonce"]:
        raise Unauthorized("the id_token's nonce does not match this attempt", code="bad_nonce")
    _check_admin(claims)
    org_id = str(claims.get("orgid") or "")
    if not org_id:
        raise ValidationError("Haravan's id_token names no shop (orgid)", code="no_orgid")
    org_name = claims.get("orgname") or ""
    kept = {k: tokens[k] for k in ("access_token", "refresh_token") if tokens.get(k)}
    connection_id = WEB.store_connection(
        hub,
        state["m"],
        ("org_id", org_id),
        title=state.get("name") or org_name or f"Haravan {org_id}",
        tokens=kept,
        settings={"org_name": org_name},
    )
    return WEB.connected(hub, connection_id, org_id=org_id)


def _check_admin(claims: dict) -> None:
    roles = claims.get("role") or []
    roles = [roles] if isinstance(roles, str) else roles
    if roles and "admin" not in roles:
        raise ValidationError(
            "only the shop's owner or an admin can connect it: sign in with that account",
            code="not_shop_admin",
        )


def id_token_claims(token: str) -> dict:
    """Return the claims of an id_token received from the token endpoint."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise ValidationError(
            "Haravan answered no readable id_token", code="bad_id_token"
        ) from None


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
    return WEB.widget_script(current_hub())
