"""The connector's HTTP surface: OAuth install, store setup, the widget's script.

- ``POST /api/v1/shopify/connect`` (merchant API key) ``{"shop": "name.myshopify.com"}``
  answers the URL to send the merchant's browser to. ``GET /shopify/oauth/start``
  sets a signed nonce cookie and redirects to the store's authorize page;
  ``GET /shopify/oauth/callback`` checks the query HMAC, the shop domain, the
  timestamp and the state against the cookie, trades the code for a token,
  creates (or re-activates) the connection and queues its setup. This is the
  authorization-code grant of shopify-api-js ``lib/auth/oauth/oauth.ts``.
- ``GET /shopify/oauth/install``: the App URL Shopify opens from the admin
  (``shop``, ``timestamp``, ``hmac``); on a hub configured with one
  ``merchant_id`` it starts the same flow.
- ``POST /api/v1/shopify/connections/<id>/setup`` and ``.../backfill``: queue the
  store setup (webhooks, widget) or the history import for a connection,
  e.g. one made with a pasted custom-app token.
- ``GET /shopify/widget.js?connection=<id>``: the script the store's script tag
  loads; it adds the widget loader with the connection and, when the app has
  an app proxy, the proxy path, so the widget's calls go through the proxy.
"""

from __future__ import annotations

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

from connectors.shopify import signing
from connectors.shopify.client import API_VERSION
from connectors.shopify.client import TIMEOUT
from connectors.shopify.installs import ShopifyInstall
from connectors.shopify.store import DEFAULT_SCOPES
from connectors.shopify.store import NAME
from connectors.shopify.store import app_config
from connectors.shopify.store import shop_base_url
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

bp = Blueprint("shopify", __name__, url_prefix="/shopify")
api = ApiBlueprint("shopify_api", __name__, url_prefix="/shopify", description="Shopify stores")

STATE_MAX_AGE = 600
NONCE_COOKIE = "hub_shopify_oauth"


def _signer(hub: Hub) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(hub.config["HUB_SECRET_KEY"], salt="shopify-oauth")


def _app(hub: Hub) -> dict:
    config = app_config(hub)
    if not config.get("api_key") or not config.get("api_secret"):
        raise ValidationError(
            "the Shopify app is not configured: set HUB_PLUGINS_CONFIG['shopify'] api_key and "
            "api_secret (or connect with a custom app's token through POST /api/v1/connections)",
            code="shopify_app_not_configured",
        )
    return config


def _clean_shop(shop: str | None) -> str:
    shop = (shop or "").strip().lower().rstrip("/")
    if not signing.valid_shop(shop):
        raise ValidationError(
            f"{shop!r} is not a Shopify store domain; give it as name.myshopify.com",
            details={"shop": ["must look like name.myshopify.com"]},
        )
    return shop


class ShopifyConnectSchema(Schema):
    shop = fields.Str(required=True)
    name = fields.Str(load_default="")


class ShopifyConnectAnswerSchema(Schema):
    authorize_url = fields.Str()


class ShopifyQueuedSchema(Schema):
    connection_id = fields.Int()
    queued = fields.Str()


@api.route("/connect")
class Connect(MethodView):
    @api.arguments(ShopifyConnectSchema)
    @api.response(200, ShopifyConnectAnswerSchema)
    def post(self, data):
        """Start connecting a Shopify store: answers the URL to open in the browser."""
        hub = current_hub()
        _app(hub)
        shop = _clean_shop(data["shop"])
        state = _signer(hub).dumps({"m": g.merchant_id, "shop": shop, "name": data["name"]})
        return {"authorize_url": f"{public_url(hub, 'Shopify')}/{NAME}/oauth/start?state={state}"}


def _own_connection(hub: Hub, connection_id: int) -> Connection:
    with hub.db.session() as session:
        connection = session.get(Connection, connection_id)
    if (
        connection is None
        or connection.connector != NAME
        or connection.merchant_id != g.merchant_id
        or connection.status == "deleted"
    ):
        raise NotFound(f"shopify connection {connection_id} not found", code="connection_not_found")
    return connection


@api.route("/connections/<int:connection_id>/setup")
class Setup(MethodView):
    @api.response(202, ShopifyQueuedSchema)
    def post(self, connection_id):
        """Queue the store setup: webhook subscriptions and the widget's script tag."""
        hub = current_hub()
        _own_connection(hub, connection_id)
        queue_setup(hub, connection_id)
        return {"connection_id": connection_id, "queued": "setup"}


@api.route("/connections/<int:connection_id>/backfill")
class Backfill(MethodView):
    @api.response(202, ShopifyQueuedSchema)
    def post(self, connection_id):
        """Queue the import of the store's customers and order history (resumable)."""
        hub = current_hub()
        _own_connection(hub, connection_id)
        hub.jobs.enqueue(
            "connectors.shopify.sync.backfill_job",
            connection_id,
            job_id=f"shopify-backfill-{connection_id}",
            retry=hub.jobs.default_retry(),
            meta={"plugin": NAME, "connection_id": connection_id},
        )
        return {"connection_id": connection_id, "queued": "backfill"}


def queue_setup(hub: Hub, connection_id: int) -> None:
    hub.jobs.enqueue(
        "connectors.shopify.setup.setup_connection",
        connection_id,
        job_id=f"shopify-setup-{connection_id}",
        retry=hub.jobs.default_retry(),
        meta={"plugin": NAME, "connection_id": connection_id},
    )


@bp.get("/oauth/start")
def oauth_start():
    """Set the nonce cookie and send the browser to the store's authorize page."""
    hub = current_hub()
    config = _app(hub)
    try:
        state = _signer(hub).loads(request.args.get("state", ""), max_age=STATE_MAX_AGE)
    except BadSignature:
        raise Unauthorized(
            "this connect link is invalid or older than 10 minutes; start again",
            code="bad_state",
        ) from None
    nonce = secrets.token_urlsafe(24)
    query = urlencode(
        {
            "client_id": config["api_key"],
            "scope": config.get("scopes") or DEFAULT_SCOPES,
            "redirect_uri": f"{public_url(hub, 'Shopify')}/{NAME}/oauth/callback",
            "state": nonce,
        }
    )
    response = redirect(f"{shop_base_url(hub, state['shop'])}/admin/oauth/authorize?{query}")
    cookie = _signer(hub).dumps({**state, "nonce": nonce})
    response.set_cookie(
        NONCE_COOKIE,
        cookie,
        max_age=STATE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
        path=f"/{NAME}/oauth",
    )
    return response


@bp.get("/oauth/install")
def oauth_install():
    """The App URL: Shopify's install hit, checked, then the usual flow for the hub's merchant."""
    hub = current_hub()
    config = _app(hub)
    if not signing.verify_query(_secrets(config), request.args):
        raise Unauthorized("the install request's hmac, shop or timestamp is invalid")
    merchant_id = config.get("merchant_id")
    if not merchant_id:
        raise ValidationError(
            "this hub serves several merchants: connect the store from the hub with "
            "POST /api/v1/shopify/connect",
            code="start_from_the_hub",
        )
    shop = _clean_shop(request.args["shop"])
    state = _signer(hub).dumps({"m": int(merchant_id), "shop": shop, "name": ""})
    return redirect(f"{public_url(hub, 'Shopify')}/{NAME}/oauth/start?state={state}")


@bp.get("/oauth/callback")
def oauth_callback():
    """Check the redirect, trade the code for a token, store the connection, queue its setup."""
    hub = current_hub()
    config = _app(hub)
    args = request.args
    if not signing.verify_query(_secrets(config), args):
        raise Unauthorized("the redirect's hmac, shop or timestamp is invalid", code="bad_hmac")
    try:
        state = _signer(hub).loads(request.cookies.get(NONCE_COOKIE, ""), max_age=STATE_MAX_AGE)
    except BadSignature:
        raise Unauthorized(
            "the connect attempt expired or was started in another browser; start again",
            code="bad_state",
        ) from None
    shop = _clean_shop(args.get("shop"))
    if not secrets.compare_digest(state["nonce"], args.get("state", "")) or shop != state["shop"]:
        raise Unauthorized(
            "the state or shop does not match this connect attempt", code="bad_state"
        )
    token = _exchange(hub, config, shop, args.get("code", ""))
    connection_id = _store_connection(hub, state, shop, token, config)
    queue_setup(hub, connection_id)
    response = jsonify({"connection_id": connection_id, "shop": shop, "status": "connected"})
    response.delete_cookie(NONCE_COOKIE, path=f"/{NAME}/oauth")
    return response


def _secrets(config: dict) -> list[str]:
    return [s for s in (config.get("api_secret"), config.get("previous_api_secret")) if s]


def _exchange(hub: Hub, config: dict, shop: str, code: str) -> dict:
    try:
        response = outside_http(hub).post(
            f"{shop_base_url(hub, shop)}/admin/oauth/access_token",
            json={
                "client_id": config["api_key"],
                "client_secret": config["api_secret"],
                "code": code,
            },
            timeout=TIMEOUT,
        )
    except (RetryLater, PermanentError) as exc:
        raise ValidationError(
            f"{shop} did not answer the token exchange ({exc}); try again"
        ) from None
    if response.status_code != 200:
        raise ValidationError(
            f"{shop} refused the code ({response.status_code}); start the connection again",
            code="token_exchange_failed",
        )
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or not data.get("access_token"):
        raise ValidationError(f"{shop} answered no access token", code="token_exchange_failed")
    return data


def _store_connection(hub: Hub, state: dict, shop: str, token: dict, config: dict) -> int:
    """Create the connection, or re-activate the merchant's earlier one for this shop."""
    settings = {
        "shop": shop,
        "api_version": config.get("api_version") or API_VERSION,
        "scopes": token.get("scope", ""),
        "uninstalled": False,
    }
    with hub.db.transaction() as session:
        existing = session.scalars(
            select(Connection)
            .where(
                Connection.merchant_id == state["m"],
                Connection.connector == NAME,
                Connection.status != "deleted",
            )
            .order_by(Connection.id.desc())
        ).all()
        connection = next((c for c in existing if (c.settings or {}).get("shop") == shop), None)
        if connection is None:
            connection = Connection(
                merchant_id=state["m"],
                connector=NAME,
                name=state.get("name") or shop,
                settings={},
                secrets_encrypted=hub.secrets.encrypt({}),
            )
            session.add(connection)
            session.flush()
        stored = hub.secrets.decrypt(connection.secrets_encrypted)
        stored["access_token"] = token["access_token"]
        connection.secrets_encrypted = hub.secrets.encrypt(stored)
        connection.settings = {**(connection.settings or {}), **settings}
        connection.status = "active"
        claim_install(session, ShopifyInstall, shop, connection.id)
        record_audit(
            session,
            state["m"],
            actor="shopify_oauth",
            action="connection.installed",
            object_type="connection",
            object_id=connection.id,
            data={"shop": shop},
        )
        return connection.id


@bp.get("/widget.js")
def widget_script():
    """The script tag's target: add the widget loader for one connection."""
    hub = current_hub()
    try:
        connection_id = int(request.args.get("connection", ""))
    except ValueError:
        return Response("/* missing connection */", mimetype="application/javascript", status=400)
    proxy = app_config(hub).get("proxy_path")
    attributes = {"data-connection": str(connection_id)}
    if proxy:
        attributes["data-hub"] = proxy.rstrip("/")
    body = bootstrap_script(f"{public_url(hub, 'Shopify')}/widget/v1/loader.js", attributes)
    response = Response(body, mimetype="application/javascript")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def bootstrap_script(loader_url: str, attributes: dict[str, str]) -> str:
    """Return a script that inserts the widget loader with ``attributes``.

    A script tag cannot carry attributes, so this tiny script adds the real
    ``<script>``; the loader reads its settings from ``document.currentScript``,
    which is the inserted element.
    """
    lines = [
        "(function () {",
        '  var s = document.createElement("script");',
        f"  s.src = {json.dumps(loader_url)};",
        "  s.async = true;",
    ]
    lines += [f"  s.setAttribute({json.dumps(k)}, {json.dumps(v)});" for k, v in attributes.items()]
    lines += ["  document.head.appendChild(s);", "})();", ""]
    return "\n".join(lines)
