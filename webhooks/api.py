"""REST API of outbound webhooks: ``/api/v1/webhook-endpoints`` and ``/webhook-deliveries``."""

from __future__ import annotations

import base64
from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate
from sqlalchemy import select

from hub import NotFound
from hub import ValidationError
from hub import current_hub
from webhooks import outbound
from webhooks.endpoints import create_endpoint
from webhooks.endpoints import delete_endpoint
from webhooks.endpoints import endpoint_deliveries
from webhooks.endpoints import get_endpoint
from webhooks.endpoints import list_endpoints
from webhooks.endpoints import rotate_secret
from webhooks.endpoints import update_endpoint
from webhooks.models import WebhookAttempt
from webhooks.models import WebhookDelivery
from webhooks.openapi import event_callbacks

blp = Blueprint(
    "webhook_endpoints",
    __name__,
    url_prefix="",
    description="Outbound webhooks: endpoints, deliveries and replays",
)


class EndpointInSchema(Schema):
    url = fields.Str(required=True, validate=validate.Length(min=1, max=2000))
    event_types = fields.List(
        fields.Str(validate=validate.Length(min=1, max=64)),
        required=True,
        validate=validate.Length(min=1, max=100),
    )
    description = fields.Str(load_default="", validate=validate.Length(max=500))


class EndpointPatchSchema(Schema):
    url = fields.Str(validate=validate.Length(min=1, max=2000))
    event_types = fields.List(
        fields.Str(validate=validate.Length(min=1, max=64)),
        validate=validate.Length(min=1, max=100),
    )
    description = fields.Str(validate=validate.Length(max=500))
    status = fields.Str(validate=validate.OneOf(("active", "disabled")))


class EndpointSchema(Schema):
    id = fields.Int()
    url = fields.Str()
    event_types = fields.List(fields.Str())
    description = fields.Str()
    status = fields.Str()
    disabled_reason = fields.Str(allow_none=True)
    failing_since = fields.AwareDateTime(allow_none=True)
    previous_secret_expires_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class EndpointCreatedSchema(EndpointSchema):
    secret = fields.Str(metadata={"description": "whsec_ secret; shown only in this answer"})


class RotatedSecretSchema(Schema):
    secret = fields.Str()
    previous_secret_expires_at = fields.AwareDateTime()


class AttemptSchema(Schema):
    number = fields.Int()
    trigger = fields.Str()
    succeeded = fields.Bool()
    status_code = fields.Int(allow_none=True)
    duration_ms = fields.Int()
    response_snippet = fields.Str()
    error = fields.Str(allow_none=True)
    attempted_at = fields.AwareDateTime()


class DeliverySchema(Schema):
    id = fields.Int()
    message_id = fields.Str(metadata={"description": "the webhook-id header of every attempt"})
    endpoint_id = fields.Int()
    event_id = fields.Str()
    event_type = fields.Str()
    status = fields.Str()
    attempts = fields.Int()
    last_status_code = fields.Int(allow_none=True)
    last_error = fields.Str(allow_none=True)
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    payload = fields.Dict()
    attempt_log = fields.List(fields.Nested(AttemptSchema))


class PageArgsSchema(Schema):
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.Str(load_default=None)


class EndpointPageSchema(Schema):
    data = fields.List(fields.Nested(EndpointSchema))
    next_cursor = fields.Str(allow_none=True)


class DeliveryPageSchema(Schema):
    data = fields.List(fields.Nested(DeliverySchema))
    next_cursor = fields.Str(allow_none=True)


def _decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(
            "the cursor is not one this API gave out", details={"cursor": ["invalid cursor"]}
        ) from None


def _next_cursor(rows: list[Any], limit: int) -> str | None:
    if len(rows) < limit:
        return None
    return base64.urlsafe_b64encode(str(rows[-1].id).encode()).decode().rstrip("=")


@blp.route("/webhook-endpoints")
class Endpoints(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, EndpointPageSchema)
    def get(self, args):
        """List the merchant's webhook endpoints, a page at a time."""
        with current_hub().db.session() as session:
            rows = list_endpoints(
                session,
                g.merchant_id,
                after_id=_decode_cursor(args["cursor"]),
                limit=args["limit"],
            )
        return {"data": rows, "next_cursor": _next_cursor(rows, args["limit"])}

    @blp.arguments(EndpointInSchema)
    @blp.response(201, EndpointCreatedSchema)
    @blp.doc(callbacks=event_callbacks())
    def post(self, data):
        """Register an endpoint; the answer carries its whsec_ secret, shown only this once."""
        hub = current_hub()
        with hub.db.transaction() as session:
            endpoint, secret = create_endpoint(hub, session, g.merchant_id, **data, actor=g.actor)
            view = {name: getattr(endpoint, name) for name in EndpointSchema().fields}
        return {**view, "secret": secret}


@blp.route("/webhook-endpoints/<int:endpoint_id>")
class EndpointById(MethodView):
    @blp.response(200, EndpointSchema)
    def get(self, endpoint_id):
        """Get one endpoint; its secret is never shown again."""
        with current_hub().db.session() as session:
            return get_endpoint(session, g.merchant_id, endpoint_id)

    @blp.arguments(EndpointPatchSchema)
    @blp.response(200, EndpointSchema)
    def patch(self, data, endpoint_id):
        """Change URL, event types, description, or disable and enable the endpoint."""
        hub = current_hub()
        with hub.db.transaction() as session:
            endpoint = get_endpoint(session, g.merchant_id, endpoint_id)
            return update_endpoint(hub, session, endpoint, data, actor=g.actor)

    @blp.response(204)
    def delete(self, endpoint_id):
        """Delete the endpoint and its delivery history."""
        with current_hub().db.transaction() as session:
            endpoint = get_endpoint(session, g.merchant_id, endpoint_id)
            delete_endpoint(session, endpoint, actor=g.actor)


@blp.route("/webhook-endpoints/<int:endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @blp.response(200, RotatedSecretSchema)
    def post(self, endpoint_id):
        """Give the endpoint a new secret; the old one still signs for 24 hours."""
        hub = current_hub()
        with hub.db.transaction() as session:
            endpoint = get_endpoint(session, g.merchant_id, endpoint_id)
            secret, expires_at = rotate_secret(hub, session, endpoint, actor=g.actor)
        return {"secret": secret, "previous_secret_expires_at": expires_at}


@blp.route("/webhook-endpoints/<int:endpoint_id>/deliveries")
class EndpointDeliveries(MethodView):
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, DeliveryPageSchema)
    def get(self, args, endpoint_id):
        """List the endpoint's deliveries, newest first, each with its attempts."""
        limit = args["limit"]
        before = _decode_cursor(args["cursor"])
        with current_hub().db.session() as session:
            rows = endpoint_deliveries(
                session, g.merchant_id, endpoint_id, before_id=before, limit=limit
            )
            data = [_delivery_view(session, row) for row in rows]
        return {"data": data, "next_cursor": _next_cursor(rows, limit)}


@blp.route("/webhook-deliveries/<int:delivery_id>")
class DeliveryById(MethodView):
    @blp.response(200, DeliverySchema)
    def get(self, delivery_id):
        """Get one delivery with every attempt."""
        with current_hub().db.session() as session:
            return _delivery_view(session, _own_delivery(session, delivery_id))


@blp.route("/webhook-deliveries/<int:delivery_id>/replay")
class ReplayDelivery(MethodView):
    @blp.response(202, DeliverySchema)
    def post(self, delivery_id):
        """Attempt the delivery once more, now, with the same webhook-id."""
        hub = current_hub()
        outbound.replay(hub, g.merchant_id, delivery_id)
        with hub.db.session() as session:
            return _delivery_view(session, _own_delivery(session, delivery_id))


def _own_delivery(session: Any, delivery_id: int) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.merchant_id != g.merchant_id:
        raise NotFound(f"webhook delivery {delivery_id} not found", code="delivery_not_found")
    return delivery


def _delivery_view(session: Any, delivery: WebhookDelivery) -> dict[str, Any]:
    attempts = session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery.id)
        .order_by(WebhookAttempt.number)
    ).all()
    view = {c.name: getattr(delivery, c.name) for c in WebhookDelivery.__table__.columns}
    view["attempt_log"] = attempts
    return view
