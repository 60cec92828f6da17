"""The HTTP half of a store connector: the OAuth install, the queue routes, the widget script.

Every store connector installs the same way: ``POST /api/v1/NAME/connect`` answers a
signed link, ``GET /NAME/oauth/start`` sets a signed nonce cookie and redirects to the
platform's authorize page, ``GET /NAME/oauth/callback`` checks what came back against the
cookie, trades the code for a token and stores the connection. A connector supplies only
what its platform does differently (the authorize URL, the checks on the redirect, the
token exchange's request); ``StoreWeb`` keeps the state, the cookie, the connection, the
install row, the audit entry and the queued setup.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

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

from hub.audit import record as record_audit
from hub.core import Hub
from hub.core import current_hub
from hub.errors import NotFound
from hub.errors import PermanentError
from hub.errors import RetryLater
from hub.errors import Unauthorized
from hub.errors import ValidationError
from hub.http import outside_http
from hub.models import Connection
from hub.store_connector import claim_install
from hub.store_connector import public_url

if TYPE_CHECKING:
    from hub.store_connector import StoreConnector

#: Seconds a connect link and its nonce cookie stay good.
STATE_MAX_AGE = 600
#: What ``POST /api/v1/NAME/connections/<id>/<what>`` may queue.
QUEUED_JOBS = ("setup", "backfill")

#: ``authorize_url(hub, app_config, link_state, nonces)``: the platform's authorize page.
AuthorizeURL = Callable[[Hub, dict[str, Any], dict[str, Any], dict[str, str]], str]


class StoreConnectAnswerSchema(Schema):
    authorize_url = fields.Str()


class StoreQueuedSchema(Schema):
    connection_id = fields.Int()
    queued = fields.Str()


@dataclass(frozen=True)
class StoreWeb:
    """The web routes of one store connector.

    ``credentials`` are the keys of the app's client id and secret in the connector's
    ``HUB_PLUGINS_CONFIG`` entry; ``private_app`` says, in the not-configured error, what
    a merchant can connect with instead ("a custom app's token"). ``jobs`` names the
    module paths of the setup and backfill jobs; by default ``setup_connection`` in the
    connector package's ``setup`` and ``backfill_job`` in its ``sync``.
    """

    connector: StoreConnector
    credentials: tuple[str, str]
    private_app: str
    jobs: dict[str, str] = field(default_factory=dict)

    def job(self, what: str) -> str:
        """The module path of the ``setup`` or ``backfill`` job."""
        package = self.connector.package
        defaults = {
            "setup": f"{package}.setup.setup_connection",
            "backfill": f"{package}.sync.backfill_job",
        }
        return {**defaults, **self.jobs}[what]

    @property
    def name(self) -> str:
        return self.connector.name

    @property
    def cookie(self) -> str:
        return f"hub_{self.name}_oauth"

    def signer(self, hub: Hub) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(hub.config["HUB_SECRET_KEY"], salt=f"{self.name}-oauth")

    def app(self, hub: Hub) -> dict[str, Any]:
        """The app's settings, or a clear error naming the settings to set."""
        config = hub.plugin_config(self.name)
        if not all(config.get(key) for key in self.credentials):
            client_id, secret = self.credentials
            raise ValidationError(
                f"the {self.connector.title} app is not configured: set "
                f"HUB_PLUGINS_CONFIG['{self.name}'] {client_id} and {secret} (or connect with "
                f"{self.private_app} through POST /api/v1/connections)",
                code=f"{self.name}_app_not_configured",
            )
        return config

    def url(self, hub: Hub, path: str) -> str:
        """The hub's public URL of ``/NAME/path``."""
        return f"{public_url(hub, self.connector.title)}/{self.name}/{path}"

    def start_link(self, hub: Hub, merchant_id: int, **state: Any) -> str:
        """The link that starts an install for the merchant; ``state`` rides along signed."""
        token = self.signer(hub).dumps({"m": merchant_id, **state})
        return self.url(hub, f"oauth/start?state={token}")

    def link_state(self, hub: Hub) -> dict[str, Any]:
        """The state of the connect link ``GET /NAME/oauth/start`` was opened with."""
        try:
            return self.signer(hub).loads(request.args.get("state", ""), max_age=STATE_MAX_AGE)
        except BadSignature:
            raise Unauthorized(
                "this connect link is invalid or older than 10 minutes; start again",
                code="bad_state",
            ) from None

    def start_authorize(
        self, authorize_url: AuthorizeURL, nonces: tuple[str, ...] = ("nonce",)
    ) -> Response:
        """Answer ``GET /NAME/oauth/start``: a fresh value for each of ``nonces``, kept
        with the link's state in the signed cookie, and the redirect to ``authorize_url``."""
        hub = current_hub()
        config = self.app(hub)
        state = self.link_state(hub)
        fresh = {name: secrets.token_urlsafe(24) for name in nonces}
        return self.to_authorize(authorize_url(hub, config, state, fresh), {**state, **fresh})

    def to_authorize(self, location: str, attempt: dict[str, Any]) -> Response:
        """Redirect to the platform's authorize page, keeping ``attempt`` in a signed cookie."""
        response = redirect(location)
        response.set_cookie(
            self.cookie,
            self.signer(current_hub()).dumps(attempt),
            max_age=STATE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            path=f"/{self.name}/oauth",
        )
        return response

    def attempt(self, hub: Hub) -> dict[str, Any]:
        """The attempt the callback's browser started, from its signed cookie."""
        try:
            return self.signer(hub).loads(
                request.cookies.get(self.cookie, ""), max_age=STATE_MAX_AGE
            )
        except BadSignature:
            raise Unauthorized(
                "the connect attempt expired or was started in another browser; start again",
                code="bad_state",
            ) from None

    def check_nonce(self, expected: str, given: str) -> None:
        if not secrets.compare_digest(expected.encode(), given.encode()):
            raise Unauthorized("the state does not match this connect attempt", code="bad_state")

    def exchange(self, hub: Hub, url: str, who: str, *, timeout: float, **body: Any) -> dict:
        """Post the token request (``json=`` or ``data=``); answer the platform's tokens."""
        try:
            response = outside_http(hub).post(url, timeout=timeout, **body)
        except (RetryLater, PermanentError) as exc:
            raise ValidationError(
                f"{who} did not answer the token exchange ({exc}); try again"
            ) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200:
            raise ValidationError(
                f"{who} refused the code ({response.status_code}); start the connection again",
                code="token_exchange_failed",
            )
        if not isinstance(answer, dict) or not answer.get("access_token"):
            raise ValidationError(f"{who} answered no access token", code="token_exchange_failed")
        return answer

    def connected(self, hub: Hub, connection_id: int, **answer: Any) -> Response:
        """Queue the new connection's setup; answer it and drop the nonce cookie."""
        self.queue(hub, "setup", connection_id)
        response = jsonify({"connection_id": connection_id, **answer, "status": "connected"})
        response.delete_cookie(self.cookie, path=f"/{self.name}/oauth")
        return response

    def store_connection(
        self,
        hub: Hub,
        merchant_id: int,
        key: tuple[str, str],
        *,
        title: str,
        tokens: dict[str, str],
        settings: dict[str, Any],
    ) -> int:
        """Create the connection, or re-activate the merchant's earlier one for this store.

        ``key`` is the setting naming the store and its value (``("shop", "x.myshopify.com")``);
        ``tokens`` join the connection's secrets; the install row names the connection.
        """
        setting, value = key
        with hub.db.transaction() as session:
            existing = session.scalars(
                select(Connection)
                .where(
                    Connection.merchant_id == merchant_id,
                    Connection.connector == self.name,
                    Connection.status != "deleted",
                )
                .order_by(Connection.id.desc())
            ).all()
            connection = next(
                (c for c in existing if (c.settings or {}).get(setting) == value), None
            )
            if connection is None:
                connection = Connection(
                    merchant_id=merchant_id,
                    connector=self.name,
                    name=title,
                    settings={},
                    secrets_encrypted=hub.secrets.encrypt({}),
                )
                session.add(connection)
                session.flush()
            stored = hub.secrets.decrypt(connection.secrets_encrypted)
            connection.secrets_encrypted = hub.secrets.encrypt({**stored, **tokens})
            connection.settings = {
                **(connection.settings or {}),
                setting: value,
                **settings,
                "uninstalled": False,
            }
            connection.status = "active"
            claim_install(session, self.connector.install_model, value, connection.id)
            record_audit(
                session,
                merchant_id,
                actor=f"{self.name}_oauth",
                action="connection.installed",
                object_type="connection",
                object_id=connection.id,
                data={setting: value},
            )
            return connection.id

    def own_connection(self, hub: Hub, connection_id: int) -> Connection:
        """The calling merchant's connection of this connector, or 404."""
        with hub.db.session() as session:
            connection = session.get(Connection, connection_id)
        if (
            connection is None
            or connection.connector != self.name
            or connection.merchant_id != g.merchant_id
            or connection.status == "deleted"
        ):
            raise NotFound(
                f"{self.name} connection {connection_id} not found", code="connection_not_found"
            )
        return connection

    def queue(self, hub: Hub, what: str, connection_id: int) -> None:
        """Queue the connection's ``setup`` or ``backfill`` job (one at a time per connection)."""
        hub.jobs.enqueue(
            self.job(what),
            connection_id,
            job_id=f"{self.name}-{what}-{connection_id}",
            retry=hub.jobs.default_retry(),
            meta={"plugin": self.name, "connection_id": connection_id},
        )

    def widget_script(self, hub: Hub, extra: dict[str, str] | None = None) -> Response:
        """``GET /NAME/widget.js?connection=<id>``: the script the store's script tag loads."""
        try:
            connection_id = int(request.args.get("connection", ""))
        except ValueError:
            return Response(
                "/* missing connection */", mimetype="application/javascript", status=400
            )
        attributes = {"data-connection": str(connection_id), **(extra or {})}
        loader = f"{public_url(hub, self.connector.title)}/widget/v1/loader.js"
        response = Response(bootstrap_script(loader, attributes), mimetype="application/javascript")
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    def api_blueprint(
        self, connect_schema: type[Schema], connect: Callable[[Hub, int, dict[str, Any]], str]
    ) -> ApiBlueprint:
        """``POST /api/v1/NAME/connect`` and ``.../connections/<id>/setup|backfill``.

        ``connect(hub, merchant_id, data)`` checks the loaded body and answers the link to
        open (``start_link``).
        """
        title = self.connector.title
        api = ApiBlueprint(
            f"{self.name}_api", __name__, url_prefix=f"/{self.name}", description=f"{title} stores"
        )
        web = self

        @api.route("/connect")
        class Connect(MethodView):
            @api.arguments(connect_schema)
            @api.response(200, StoreConnectAnswerSchema)
            def post(self, data):
                """Start connecting a store: answers the URL to open in the owner's browser."""
                hub = current_hub()
                web.app(hub)
                return {"authorize_url": connect(hub, g.merchant_id, data)}

        @api.route(f"/connections/<int:connection_id>/<any({', '.join(QUEUED_JOBS)}):what>")
        class Queue(MethodView):
            @api.response(202, StoreQueuedSchema)
            def post(self, connection_id, what):
                """Queue the store setup (webhooks, widget) or the history import (resumable)."""
                hub = current_hub()
                web.own_connection(hub, connection_id)
                web.queue(hub, what, connection_id)
                return {"connection_id": connection_id, "queued": what}

        return api


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
