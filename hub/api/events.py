"""Events: a merchant's server reports what a member did; earning rules turn it into points."""

from __future__ import annotations

from flask import g
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from hub.api.schemas import Int64
from hub.core import current_hub
from hub.db import utcnow
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.members.directory import find_member
from hub.members.directory import get_member
from hub.merchants.event_secrets import create_event_secret
from hub.merchants.event_secrets import list_event_secrets
from hub.phones import normalize_phone
from hub.points.actions import KIND_PATTERN
from hub.points.actions import PERIODS
from hub.points.actions import list_rules
from hub.points.actions import record_action
from hub.points.actions import replace_rules

blp = Blueprint("events", __name__, url_prefix="/events", description="Events")

KIND = fields.Str(
    required=True,
    validate=[validate.Length(max=64), validate.Regexp(KIND_PATTERN, error="dotted lower-case")],
    metadata={"example": "review.published"},
)


class EventInSchema(Schema):
    """One thing a member did; name the member by id, phone, email or member code."""

    kind = KIND
    member_id = Int64()
    phone = fields.Str(validate=validate.Length(max=40))
    email = fields.Email(validate=validate.Length(max=254))
    member_code = fields.Str(validate=validate.Length(max=16))
    occurred_at = fields.AwareDateTime(load_default=None)
    data = fields.Dict(load_default=dict, metadata={"description": "kept with the event"})

    @validates_schema
    def _someone(self, data, **_):
        if not any(data.get(k) for k in ("member_id", "phone", "email", "member_code")):
            raise SchemaError(
                "name the member: member_id, phone, email or member_code", "member_id"
            )


class EventSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    member_id = fields.Int()
    occurred_at = fields.AwareDateTime()
    outcome = fields.Str(
        metadata={"description": "earned, or why not: no_rule, first_time_only, limit"}
    )
    points = fields.Int()
    idempotency_key = fields.Str()


class RuleSchema(Schema):
    kind = KIND
    title = fields.Str(load_default="", validate=validate.Length(max=200))
    points = fields.Int(required=True, validate=validate.Range(1, 1_000_000))
    limit_count = fields.Int(allow_none=True, load_default=None, validate=validate.Range(1, 1000))
    limit_period = fields.Str(allow_none=True, load_default=None, validate=validate.OneOf(PERIODS))
    first_time_only = fields.Bool(load_default=False)
    enabled = fields.Bool(load_default=True)

    @validates_schema
    def _limit(self, data, **_):
        if (data.get("limit_count") is None) != (data.get("limit_period") is None):
            raise SchemaError("give limit_count and limit_period together", "limit_period")


class RulesSchema(Schema):
    data = fields.List(fields.Nested(RuleSchema), required=True, validate=validate.Length(max=100))

    @validates_schema
    def _unique(self, data, **_):
        kinds = [rule["kind"] for rule in data.get("data", [])]
        if len(kinds) != len(set(kinds)):
            raise SchemaError("each kind at most once", "data")


def _member(session, merchant_id: int, args: dict):
    if args.get("member_id"):
        return get_member(session, merchant_id, args["member_id"])
    found = find_member(
        session,
        merchant_id,
        phone=normalize_phone(args.get("phone")) if args.get("phone") else None,
        email=(args.get("email") or "").strip().lower() or None,
        code=args.get("member_code"),
    )
    if found is None:
        raise NotFound("no active member matches the phone, email or member code given",
                       code="member_not_found")  # fmt: skip
    return found


def _header(name: str, description: str, schema: dict) -> dict:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": schema}  # fmt: skip


SIGNED_HEADERS_DOC = [
    _header("hub-merchant", "signed requests: the merchant's id", {"type": "integer"}),
    _header(
        "webhook-id",
        "signed requests: the event's id, also its idempotency key (a replay answers the "
        "first event)",
        {"type": "string", "maxLength": 255},
    ),
    _header(
        "webhook-timestamp",
        "signed requests: Unix seconds when signed; refused more than 5 minutes away",
        {"type": "integer"},
    ),
]


@blp.route("")
class Events(MethodView):
    @blp.doc(
        security=[{"bearer": []}, {"eventSignature": []}],
        parameters=SIGNED_HEADERS_DOC,
    )
    @blp.arguments(EventInSchema)
    @blp.response(201, EventSchema)
    @blp.alt_response(200, schema=EventSchema, description="The key was seen before: its event")
    def post(self, args):
        """Report what a member did; the earning rule for its kind awards points, once per key.

        Send an ``Idempotency-Key`` header (required): the same key again answers the
        first event and awards nothing more, however often and however concurrently it
        is sent. ``outcome`` says whether it earned, or why not.

        Instead of the API key, a sender may sign the request with an events signing
        secret (Standard Webhooks: ``hub-merchant``, ``webhook-id``,
        ``webhook-timestamp``, ``webhook-signature``); ``webhook-id`` is then the
        idempotency key. A missing, wrong or stale signature answers 401.
        """
        key = g.get("signed_event_id") or (request.headers.get("Idempotency-Key") or "").strip()
        if not key:
            raise ValidationError(
                "send an Idempotency-Key header naming this event (for example the review's id)",
                details={"Idempotency-Key": ["required"]},
            )
        hub = current_hub()
        with hub.db.transaction() as session:
            member = _member(session, g.merchant_id, args)
            done = record_action(
                session, member, args["kind"], key[:255],
                occurred_at=args["occurred_at"] or utcnow(), data=args["data"],
            )  # fmt: skip
            return done.action, 200 if done.replayed else 201


class SecretSchema(Schema):
    id = fields.Int()
    hint = fields.Str(metadata={"description": "the secret's first characters"})
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(
        allow_none=True, metadata={"description": "when it stops working; null: in force"}
    )


class NewSecretSchema(SecretSchema):
    secret = fields.Str(
        metadata={"description": "whsec_ and the base64 key: shown this once, keep it safe"}
    )


class SecretsSchema(Schema):
    data = fields.List(fields.Nested(SecretSchema))


@blp.route("/secrets")
class Secrets(MethodView):
    @blp.response(200, SecretsSchema)
    def get(self):
        """List the events signing secrets in force (never the secrets themselves)."""
        with current_hub().db.session() as session:
            return {"data": list_event_secrets(session, g.merchant_id, utcnow())}

    @blp.response(201, NewSecretSchema)
    def post(self):
        """Make a new events signing secret, shown this once; earlier ones work 24 hours more."""
        hub = current_hub()
        with hub.db.transaction() as session:
            return create_event_secret(hub, session, g.merchant_id, actor=g.actor, now=utcnow())


@blp.route("/rules")
class Rules(MethodView):
    @blp.response(200, RulesSchema)
    def get(self):
        """List the earning rules on events."""
        with current_hub().db.session() as session:
            return {"data": list_rules(session, g.merchant_id)}

    @blp.arguments(RulesSchema)
    @blp.response(200, RulesSchema)
    def put(self, args):
        """Replace the earning rules on events with this list (one rule per kind)."""
        with current_hub().db.transaction() as session:
            return {"data": replace_rules(session, g.merchant_id, args["data"], actor=g.actor)}
