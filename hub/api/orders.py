"""Orders sent directly by a custom integration, and reading stored orders."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from hub.api.pagination import decode_cursor
from hub.api.pagination import page
from hub.api.pagination import page_of
from hub.api.schemas import OrderInSchema
from hub.api.schemas import OrderListArgs
from hub.api.schemas import OrderSchema
from hub.canonical import Address
from hub.canonical import Customer
from hub.canonical import Order as CanonicalOrder
from hub.canonical import OrderLine
from hub.core import current_hub
from hub.models import Merchant
from hub.models import Order
from hub.orders.batches import record_order
from hub.orders.recording import get_order

blp = Blueprint("orders", __name__, url_prefix="/orders", description="Orders")


def canonical_order(data: dict, currency: str) -> CanonicalOrder:
    """Build the canonical order from a loaded ``OrderInSchema`` body."""
    customer = data.get("customer")
    if customer is not None:
        address = customer.get("address")
        customer = Customer(**{**customer, "address": Address(**address) if address else None})
    return CanonicalOrder(
        external_id=data["external_id"],
        number=data.get("number"),
        currency=(data.get("currency") or currency).upper(),
        subtotal=data["subtotal"],
        total_discounts=data["total_discounts"],
        shipping=data["shipping"],
        tax=data["tax"],
        total=data["total"],
        discount_codes=tuple(data["discount_codes"]),
        financial_status=data["financial_status"],
        placed_at=data["placed_at"],
        paid_at=data.get("paid_at"),
        cancelled_at=data.get("cancelled_at"),
        updated_at=data.get("updated_at"),
        lines=tuple(
            OrderLine(**{**line, "collections": tuple(line["collections"])})
            for line in data["lines"]
        ),
        customer=customer,
    )


@blp.route("")
class Orders(MethodView):
    @blp.arguments(OrderInSchema)
    @blp.response(201, OrderSchema)
    @blp.alt_response(200, schema=OrderSchema, description="The order was already recorded")
    def post(self, data):
        """Record an order, once per (connection or source, external id).

        Sending the same order again answers 200 with the stored order; a
        changed financial status or cancellation updates it.
        """
        hub = current_hub()
        with hub.db.transaction() as session:
            merchant = session.get(Merchant, g.merchant_id)
            recorded = record_order(
                hub,
                session,
                g.merchant_id,
                canonical_order(data, merchant.currency),
                connection_id=data.get("connection_id"),
                source=data.get("source"),
            )
            return recorded.order, 201 if recorded.created else 200

    @blp.arguments(OrderListArgs, location="query")
    @blp.response(200, page_of(OrderSchema))
    def get(self, args):
        """List orders, newest id last, optionally of one member."""
        query = select(Order).where(Order.merchant_id == g.merchant_id)
        if args.get("member_id"):
            query = query.where(Order.member_id == args["member_id"])
        after_id = decode_cursor(args["cursor"])
        if after_id:
            query = query.where(Order.id > after_id)
        with current_hub().db.session() as session:
            rows = list(session.scalars(query.order_by(Order.id).limit(args["limit"])))
            return page(rows, args["limit"])


@blp.route("/<int:order_id>")
class OrderById(MethodView):
    @blp.response(200, OrderSchema)
    def get(self, order_id):
        """Get one order with its lines."""
        with current_hub().db.session() as session:
            return get_order(session, g.merchant_id, order_id)
