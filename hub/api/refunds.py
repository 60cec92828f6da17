"""Refunds of an order: record one (its points are reversed in proportion), list them."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub.canonical import Refund
from hub.core import current_hub
from hub.db import utcnow
from hub.orders.recording import get_order
from hub.orders.recording import refunds_of
from hub.orders.recording import store_refund
from hub.points.program import AMOUNT
from hub.points.program import positive

blp = Blueprint("refunds", __name__, url_prefix="/orders", description="Refunds")


class OrderRefundInSchema(Schema):
    external_id = fields.Str(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the refund's id at the store; a second refund needs another"},
    )
    amount = fields.Decimal(
        as_string=True, required=True, allow_nan=False, validate=positive, metadata=AMOUNT
    )
    currency = fields.Str(validate=validate.Regexp(r"^[A-Za-z]{3}$"))
    created_at = fields.AwareDateTime(load_default=None)
    note = fields.Str(load_default="", validate=validate.Length(max=500))
    lines = fields.List(fields.Dict(), load_default=list, validate=validate.Length(max=500))


class OrderRefundSchema(Schema):
    id = fields.Int()
    order_id = fields.Int()
    external_id = fields.Str()
    amount = fields.Decimal(as_string=True, metadata=AMOUNT)
    currency = fields.Str()
    refunded_at = fields.AwareDateTime()
    note = fields.Str()
    lines = fields.List(fields.Dict())
    points_reversed = fields.Int()
    applied_at = fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "when its points were reversed; null until the order earns"},
    )
    created_at = fields.AwareDateTime()


@blp.route("/<int:order_id>/refunds")
class OrderRefunds(MethodView):
    @blp.arguments(OrderRefundInSchema)
    @blp.response(201, OrderRefundSchema)
    @blp.alt_response(200, schema=OrderRefundSchema, description="The refund was already recorded")
    def post(self, data, order_id):
        """Record a refund of the order; its share of the order's points is taken back.

        Points are reversed in proportion to the refunded amount against the
        amount the order earned on, never more than it earned; each refund
        counts once by ``external_id``.
        """
        hub = current_hub()
        with hub.db.transaction() as session:
            order = get_order(session, g.merchant_id, order_id)
            refund = Refund(
                external_id=data["external_id"],
                order_external_id=order.external_id,
                amount=data["amount"],
                currency=(data.get("currency") or order.currency).upper(),
                created_at=data["created_at"] or utcnow(),
                lines=tuple(data["lines"]),
                note=data["note"],
            )
            recorded = store_refund(hub, session, g.merchant_id, order.source, refund)
            return recorded.refund, 201 if recorded.created else 200

    @blp.response(200, OrderRefundSchema(many=True))
    def get(self, order_id):
        """List the order's refunds, oldest first, with the points each took back."""
        with current_hub().db.session() as session:
            get_order(session, g.merchant_id, order_id)
            return refunds_of(session, order_id)
