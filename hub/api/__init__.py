"""The REST API under ``/api/v1``: blueprints, auth, errors, idempotency, OpenAPI."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask
from flask import has_request_context
from flask_smorest import Api

from hub.api import auth
from hub.api import bodies
from hub.api import errors
from hub.api import idempotency
from hub.api.ids import id_parameter_schema
from hub.api.openapi import ErrorResponsesPlugin
from hub.api.openapi import ErrorSchema
from hub.input_guard import Int64Converter
from hub.input_guard import allow_large_body


class HubApi(Api):
    """flask-smorest's Api with the hub's one error shape, in answers and in the document.

    A blueprint's routes are mounted when it is registered; its pages of the
    OpenAPI document are written the first time the document is read, in the
    order the blueprints came. Most processes (workers, tests, one-off commands)
    never read it, and writing it is most of the cost of making an app.
    """

    ERROR_SCHEMA = ErrorSchema
    # Each operation lists the error statuses it answers (hub.api.openapi), not a catch-all.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._spec: APISpec | None = None
        self._undocumented: list[Callable[[], None]] = []
        self._interfaces_added = False
        self._documenting = threading.Lock()
        super().__init__(*args, **kwargs)

    @property
    def spec(self) -> APISpec | None:
        """The OpenAPI document, with every blueprint registered so far written into it."""
        # The interfaces outside /api/v1 come from plugins: they are written when the
        # document is first read in a request, once the app and its plugins are complete.
        interfaces_due = not self._interfaces_added and has_request_context()
        if self._undocumented or interfaces_due:
            with self._documenting:
                pending, self._undocumented = self._undocumented, []
                for document in pending:
                    document()
                if interfaces_due and not self._interfaces_added and self._spec is not None:
                    self._interfaces_added = True
                    self._add_interfaces()
        return self._spec

    def _add_interfaces(self) -> None:
        """Write the interfaces served outside ``/api/v1`` into the document, after the API."""
        from hub.widget.openapi import widget_interface

        hub = self._app.extensions["hub"]
        interfaces = [widget_interface()]
        for answer in hub.pm.hook.register_api_interfaces(hub=hub):
            interfaces.extend(answer or [])
        for interface in interfaces:
            self._spec.tag({"name": interface.tag, "description": interface.description})
            for path, item in interface.paths.items():
                # APISpec.path would run flask-smorest's Flask plugin, which wants the
                # Flask rule of a route of this API: these paths are written as given.
                self._spec._paths.setdefault(path, {}).update(_tagged(item, interface.tag))
            for name, item in interface.webhooks.items():
                # OpenAPI 3.1's top-level ``webhooks``: requests the hub makes to you.
                webhooks = self._spec.options.setdefault("webhooks", {})
                webhooks[name] = _tagged(item, interface.tag)

    @spec.setter
    def spec(self, value: APISpec | None) -> None:
        self._spec = value

    def register_blueprint(self, blp, *, parameters=None, **options) -> None:
        """Mount ``blp`` now; write its pages of the document when the document is read."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append(partial(self._document, blp, name, parameters))

    def _document(self, blp, name: str, parameters) -> None:
        blp.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
        self._spec.tag({"name": name, "description": blp.description})

    def handle_http_exception(self, error):
        return errors.http_error(error)


def _tagged(item: dict[str, Any], tag: str) -> dict[str, Any]:
    """A copy of a path item whose operations carry ``tag`` unless they name their own."""
    operations = copy.deepcopy(item)
    for operation in operations.values():
        if isinstance(operation, dict):
            operation.setdefault("tags", [tag])
    return operations


def schema_name_resolver(schema) -> str:
    """Name schemas after their class; a partial instance is the class's patch form."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and getattr(schema, "partial", False):
        name += "Patch"
    if not isinstance(schema, type) and getattr(schema, "many", False):
        name += "List"
    return name


_SPEC_SETTINGS = {
    "API_TITLE": "Storefront Hub API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "hub key",
                },
                "eventSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "webhook-signature",
                    "description": "`POST /api/v1/events` only, instead of the API key: "
                    "Standard Webhooks signatures, `v1,<base64 HMAC-SHA256 of "
                    '"webhook-id.webhook-timestamp.body">` keyed by an events signing secret '
                    "(the base64 after `whsec_`), several separated by spaces during a "
                    "rotation; with the `hub-merchant`, `webhook-id` and `webhook-timestamp` "
                    "headers (within 5 minutes of the hub's clock).",
                },
            }
        },
        "security": [{"bearer": []}],
        "info": {
            "description": "Members, points and orders of one merchant. Authenticate "
            "with `Authorization: Bearer <key>`; send `Idempotency-Key` on mutating "
            "calls to make retries safe. Errors answer "
            '`{"error": {"code", "message", "details"}}`.'
        },
    },
}


def _core_blueprints() -> list:
    """The core's API blueprints, in the order the API reference lists them."""
    from hub.api.audit import blp as audit_blp
    from hub.api.campaigns import blp as campaigns_blp
    from hub.api.connections import blp as connections_blp
    from hub.api.events import blp as events_blp
    from hub.api.imports import blp as imports_blp
    from hub.api.jobs import blp as jobs_blp
    from hub.api.members import blp as members_blp
    from hub.api.merchant import blp as merchant_blp
    from hub.api.messaging import blp as messaging_blp
    from hub.api.orders import blp as orders_blp
    from hub.api.points import blp as points_blp
    from hub.api.program import blp as program_blp
    from hub.api.referrals import blp as referrals_blp
    from hub.api.refunds import blp as refunds_blp
    from hub.api.reports import blp as reports_blp
    from hub.api.reports import exports_blp
    from hub.api.rewards import blp as rewards_blp
    from hub.api.rewards import redemptions_blp
    from hub.api.segments import blp as segments_blp
    from hub.api.tiers import blp as tiers_blp
    from hub.api.tiers import member_blp as member_tiers_blp
    from hub.api.vouchers import blp as vouchers_blp
    from hub.api.vouchers import member_blp as member_vouchers_blp

    return [
        merchant_blp,
        imports_blp,
        members_blp,
        orders_blp,
        connections_blp,
        program_blp,
        points_blp,
        refunds_blp,
        messaging_blp,
        tiers_blp,
        member_tiers_blp,
        rewards_blp,
        redemptions_blp,
        vouchers_blp,
        member_vouchers_blp,
        segments_blp,
        campaigns_blp,
        reports_blp,
        exports_blp,
        referrals_blp,
        events_blp,
        jobs_blp,
        audit_blp,
    ]


def init_api(app: Flask) -> HubApi:
    """Mount every core API blueprint and its middleware on ``app``."""
    app.config.update(copy.deepcopy(_SPEC_SETTINGS))  # each app its own, never shared
    api = HubApi(
        app,
        spec_kwargs={
            "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver),
            "extra_plugins": [ErrorResponsesPlugin()],
        },
    )
    app.extensions["hub_api"] = api
    # ``<int:...>`` is hub.input_guard's bounded converter (installed before any route).
    api.register_converter(Int64Converter, id_parameter_schema)
    auth.init_app(app)
    idempotency.init_app(app)
    bodies.init_app(app)
    errors.init_app(app)

    for blp in _core_blueprints():
        api.register_blueprint(blp, url_prefix=f"/api/v1{blp.url_prefix or ''}")
    # A members file is larger than any JSON body: it has its own limit.
    allow_large_body(app, "imports.Imports", "HUB_MAX_IMPORT_BYTES")
    return api


def register_api_blueprint(app: Flask, blp) -> None:
    """Mount a plugin's flask-smorest blueprint under ``/api/v1`` with the core's spec."""
    app.extensions["hub_api"].register_blueprint(blp, url_prefix=f"/api/v1{blp.url_prefix or ''}")
