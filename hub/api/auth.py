"""Bearer API keys: every ``/api/v1`` call acts for the key's merchant."""

from __future__ import annotations

from flask import Flask
from flask import g
from flask import request

from hub.api.errors import error_response
from hub.api.event_signatures import SignatureRefused
from hub.api.event_signatures import is_signed_event
from hub.api.event_signatures import signed_merchant
from hub.core import current_hub
from hub.merchants.accounts import authenticate

PUBLIC_PATHS = ("/api/v1/openapi.json", "/api/v1/docs")


def init_app(app: Flask) -> None:
    @app.before_request
    def _authenticate():
        if not request.path.startswith("/api/v1/") or request.path in PUBLIC_PATHS:
            return None
        if is_signed_event(request):
            return _authenticate_signed()
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return _unauthorized("send the API key as 'Authorization: Bearer <key>'")
        with current_hub().db.session() as session:
            key = authenticate(session, presented.strip())
        if key is None:
            return _unauthorized("the API key is unknown or revoked")
        g.merchant_id = key.merchant_id
        g.api_key_id = key.id
        g.actor = f"api_key:{key.id}"
        return None


def _authenticate_signed():
    """An event signed with the merchant's events signing secret stands for the API key."""
    try:
        g.merchant_id = signed_merchant(current_hub(), request)
    except SignatureRefused as refused:
        return error_response(
            401, refused.code, refused.message, headers={"WWW-Authenticate": "Signature"}
        )
    g.api_key_id = None
    g.actor = "signed_event"
    g.signed_event_id = request.headers["webhook-id"].strip()
    return None


def _unauthorized(message: str):
    return error_response(
        401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="hub"'}
    )
