"""The merchant the API key belongs to."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from hub.api.schemas import MerchantSchema
from hub.core import current_hub
from hub.merchants.accounts import update_merchant
from hub.models import Merchant

blp = Blueprint("merchant", __name__, url_prefix="/merchant", description="Merchant")


@blp.route("")
class MerchantView(MethodView):
    @blp.response(200, MerchantSchema)
    def get(self):
        """Get the merchant this key acts for."""
        with current_hub().db.session() as session:
            return session.get(Merchant, g.merchant_id)

    @blp.arguments(MerchantSchema(partial=True))
    @blp.response(200, MerchantSchema)
    def patch(self, data):
        """Change the merchant's name, currency, timezone or locale."""
        with current_hub().db.transaction() as session:
            return update_merchant(session, g.merchant_id, data, actor=g.actor)
