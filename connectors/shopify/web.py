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

from urllib.parse import urlencode

from flask import Blueprint
from flask import redirect
from flask import request
from marshmallow import Schema
from marshmallow import fields

from connectors.shopify import signing
from connectors.shopify.client import API_VERSION
from connectors.shopify.client import TIMEOUT
from connectors.shopify.plugin import SHOPIFY
from connectors.shopify.store import DEFAULT_SCOPES
from connectors.shopify.store import shop_base_url
from hub import Hub
from hub import StoreWeb
from hub import Unauthorized
from hub import ValidationError
from hub import current_hub

WEB = StoreWeb(SHOPIFY, credentials=("api_key", "api_secret"), private_app="a custom app's token")
bp = Blueprint("shopify", __name__, url_prefix="/shopify")


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


def connect_link(hub: Hub, merchant_id: int, data: dict) -> str:
    """The link that installs the app on ``data["shop"]`` (API and console alike)."""
    return WEB.start_link(hub, merchant_id, shop=_clean_shop(data["shop"]), name=data["name"])


api = WEB.api_blueprint(ShopifyConnectSchema, connect_link)


@bp.get("/oauth/start")
def oauth_start():
    """Set the nonce cookie and send the browser to the store's authorize page."""
    return WEB.start_authorize(_authorize_url)


def _authorize_url(hub: Hub, config: dict, state: dict, nonces: dict[str, str]) -> str:
    query = urlencode(
        {
            "client_id": config["api_key"],
            "scope": config.get("scopes") or DEFAULT_SCOPES,
            "redirect_uri": WEB.url(hub, "oauth/callback"),
            "state": nonces["nonce"],
        }
    )
    return f"{shop_base_url(hub, state['shop'])}/admin/oauth/authorize?{query}"


@bp.get("/oauth/install")
def oauth_install():
    """The App URL: Shopify's install hit, checked, then the usual flow for the hub's merchant."""
    hub = current_hub()
    config = WEB.app(hub)
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
    return redirect(WEB.start_link(hub, int(merchant_id), shop=shop, name=""))


@bp.get("/oauth/callback")
def oauth_callback():
    """Check the redirect, trade the code for a token, store the connection, queue its setup."""
    hub = current_hub()
    config = WEB.app(hub)
    args = request.args
    if not signing.verify_query(_secrets(config), args):
        raise Unauthorized("the redirect's hmac, shop or timestamp is invalid", code="bad_hmac")
    state = WEB.attempt(hub)
    shop = _clean_shop(args.get("shop"))
    if shop != state["shop"]:
        raise Unauthorized("the shop does not match this connect attempt", code="bad_state")
    WEB.check_nonce(state["nonce"], args.get("state", ""))
    token = WEB.exchange(
        hub,
        f"{shop_base_url(hub, shop)}/admin/oauth/access_token",
        shop,
        timeout=TIMEOUT,
        json={
            "client_id": config["api_key"],
            "client_secret": config["api_secret"],
            "code": args.get("code", ""),
        },
    )
    connection_id = WEB.store_connection(
        hub,
        state["m"],
        ("shop", shop),
        title=state.get("name") or shop,
        tokens={"access_token": token["access_token"]},
        settings={
            "api_version": config.get("api_version") or API_VERSION,
            "scopes": token.get("scope", ""),
        },
    )
    return WEB.connected(hub, connection_id, shop=shop)


def _secrets(config: dict) -> list[str]:
    return [s for s in (config.get("api_secret"), config.get("previous_api_secret")) if s]


@bp.get("/widget.js")
def widget_script():
    """The script tag's target: add the widget loader for one connection.

    When the app has an app proxy, the loader is given the proxy path, so the
    widget's calls go through the proxy.
    """
    hub = current_hub()
    proxy = hub.plugin_config(SHOPIFY.name).get("proxy_path")
    return WEB.widget_script(hub, {"data-hub": proxy.rstrip("/")} if proxy else None)
