"""``Idempotency-Key`` on mutating API calls.

The same key with the same request within the retention window replays the
first answer byte for byte; the same key with another request answers 422;
a request whose first attempt is still running answers 409. Server errors
(5xx) are not remembered, so the client may retry them with the same key.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Flask
from flask import Response
from flask import g
from flask import request
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.api.errors import error_response
from hub.core import current_hub
from hub.db import utcnow
from hub.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MUTATING = ("POST", "PUT", "PATCH", "DELETE")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.full_path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def init_app(app: Flask) -> None:
    @app.before_request
    def _claim():
        key = request.headers.get(HEADER)
        if key is None or request.method not in MUTATING or "merchant_id" not in g:
            return None
        if not key.strip() or len(key) > 255:
            return error_response(
                400, "invalid_idempotency_key", f"{HEADER} must be 1 to 255 characters"
            )
        if request.content_length and request.content_length > request.max_content_length:
            return None  # answered 413 by the view; nothing to remember
        return _claim_key(key.strip(), _fingerprint())

    @app.after_request
    def _remember(response: Response) -> Response:
        record_id = g.pop("idempotency_record_id", None)
        if record_id is None:
            return response
        hub = current_hub()
        with hub.db.transaction() as session:
            if response.status_code >= 500:
                session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
            else:
                record = session.get(IdempotencyRecord, record_id)
                record.status_code = response.status_code
                record.response_body = response.get_data()
                record.content_type = response.content_type
                record.completed_at = utcnow()
        return response

    @app.teardown_request
    def _release(_exc):
        # A request that died before after_request must not hold its key forever.
        record_id = g.pop("idempotency_record_id", None)
        if record_id is not None:
            with current_hub().db.transaction() as session:
                session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


def _claim_key(key: str, fingerprint: str):
    hub = current_hub()
    ttl = timedelta(hours=hub.config["HUB_IDEMPOTENCY_TTL_HOURS"])
    for _attempt in range(2):
        try:
            with hub.db.transaction() as session:
                record = IdempotencyRecord(
                    merchant_id=g.merchant_id, key=key, fingerprint=fingerprint
                )
                session.add(record)
                session.flush()
                g.idempotency_record_id = record.id
                return None
        except IntegrityError:
            pass
        with hub.db.transaction() as session:
            existing = session.scalars(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.merchant_id == g.merchant_id,
                    IdempotencyRecord.key == key,
                )
            ).first()
            if existing is None:
                continue
            if existing.created_at < utcnow() - ttl:
                session.delete(existing)
                continue
            return _answer_existing(existing, fingerprint)
    return error_response(
        409, "idempotency_key_in_progress", "a request with this Idempotency-Key is being processed"
    )


def _answer_existing(existing: IdempotencyRecord, fingerprint: str):
    if existing.fingerprint != fingerprint:
        return error_response(
            422,
            "idempotency_key_reused",
            f"{HEADER} was already used with a different request; use a new key",
        )
    if existing.completed_at is None:
        return error_response(
            409,
            "idempotency_key_in_progress",
            "a request with this Idempotency-Key is being processed; retry when it has finished",
        )
    response = Response(
        existing.response_body, status=existing.status_code, content_type=existing.content_type
    )
    response.headers["Idempotent-Replayed"] = "true"
    return response
