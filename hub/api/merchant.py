"""The merchant the API key belongs to."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from hub.api.schemas import MerchantSchema
from hub.core import current_hub
from hub.currencies import check_currency
from hub.merchants.accounts import check_timezone
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
        if "timezone" in data:
            check_timezone(data["timezone"])
        if "currency" in data:
            data["currency"] = check_currency(data["currency"])
        with current_hub().db.transaction() as session:
            merchant = session.get(Merchant, g.merchant_id)
            for key, value in data.items():
                setattr(merchant, key, value)
            return merchant
