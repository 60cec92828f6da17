"""Segments: saved sets of conditions over members, with their live count and a sample."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub import segments
from hub.core import current_hub

blp = Blueprint("segments", __name__, url_prefix="/segments", description="Segments")

CONDITIONS_DOC = {
    "description": 'A group: {"all": [...]} or {"any": [...]}; its items are conditions '
    '({"kind": "tier", "tier_ids": [2]}) or groups of conditions, one level deep. '
    "The kinds and their fields are listed in docs/segments.md; plugins add more.",
    "example": {
        "all": [
            {"kind": "tier", "tier_ids": [2]},
            {"kind": "total_spent", "min": "1000000", "within_days": 90},
            {"kind": "consent", "channel": "sms"},
        ]
    },
}


def _conditions(**kwargs) -> fields.Dict:
    return fields.Dict(keys=fields.Str(), metadata=CONDITIONS_DOC, **kwargs)


class SegmentInSchema(Schema):
    """A segment as the merchant saves it; unknown fields are refused."""

    name = fields.Str(required=True, validate=validate.Length(min=1, max=200))
    description = fields.Str(validate=validate.Length(max=2000))
    conditions = _conditions(required=True)


class SegmentPreviewInSchema(Schema):
    conditions = _conditions(required=True)
    sample_size = fields.Int(load_default=10, validate=validate.Range(min=0, max=50))


class SegmentSampleSchema(Schema):
    id = fields.Int()
    code = fields.Str()
    name = fields.Str()
    phone = fields.Str(allow_none=True)
    email = fields.Str(allow_none=True)
    points_balance = fields.Int()
    created_at = fields.AwareDateTime()


class SegmentPreviewSchema(Schema):
    """How many active members the conditions pick now, and the newest few of them."""

    conditions = fields.Dict(metadata={"description": "The conditions as the hub reads them."})
    count = fields.Int()
    sample = fields.List(fields.Nested(SegmentSampleSchema))


class SegmentSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    description = fields.Str()
    conditions = fields.Dict()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class SegmentLiveSchema(SegmentSchema):
    count = fields.Int(metadata={"description": "Active members who match now."})
    sample = fields.List(fields.Nested(SegmentSampleSchema))


class SegmentListSchema(Schema):
    data = fields.List(fields.Nested(SegmentSchema))


class SegmentLiveArgs(Schema):
    sample_size = fields.Int(load_default=10, validate=validate.Range(min=0, max=50))


def _live(session, conditions, sample_size: int) -> dict:
    count = segments.count_members(session, g.merchant_id, conditions)
    sample = (
        segments.sample_members(session, g.merchant_id, conditions, limit=sample_size)
        if sample_size and count
        else []
    )
    return {"count": count, "sample": sample}


@blp.route("")
class Segments(MethodView):
    @blp.response(200, SegmentListSchema)
    def get(self):
        """List the merchant's segments, by name (without counts: open one to count it)."""
        with current_hub().db.session() as session:
            return {"data": segments.list_segments(session, g.merchant_id)}

    @blp.arguments(SegmentInSchema)
    @blp.response(201, SegmentSchema)
    def post(self, data):
        """Save a segment. Its conditions are checked; names are unique per merchant."""
        with current_hub().db.transaction() as session:
            return segments.create_segment(session, g.merchant_id, data, actor=g.actor)


@blp.route("/preview")
class Preview(MethodView):
    @blp.arguments(SegmentPreviewInSchema)
    @blp.response(200, SegmentPreviewSchema)
    def post(self, data):
        """Count the members some conditions pick, with a sample, without saving anything."""
        with current_hub().db.session() as session:
            conditions = segments.check_conditions(session, g.merchant_id, data["conditions"])
            return {"conditions": conditions, **_live(session, conditions, data["sample_size"])}


@blp.route("/<int:segment_id>")
class SegmentById(MethodView):
    @blp.arguments(SegmentLiveArgs, location="query")
    @blp.response(200, SegmentLiveSchema)
    def get(self, args, segment_id):
        """Get a segment with its live count and the newest of its members."""
        with current_hub().db.session() as session:
            segment = segments.get_segment(session, g.merchant_id, segment_id)
            live = _live(session, segment.conditions, args["sample_size"])
            fields_ = ("id", "name", "description", "conditions", "created_at", "updated_at")
            return {name: getattr(segment, name) for name in fields_} | live

    @blp.arguments(SegmentInSchema(partial=True))
    @blp.response(200, SegmentSchema)
    def patch(self, data, segment_id):
        """Change a segment's name, description or conditions."""
        with current_hub().db.transaction() as session:
            segment = segments.get_segment(session, g.merchant_id, segment_id)
            return segments.update_segment(session, segment, data, actor=g.actor)

    @blp.response(204)
    def delete(self, segment_id):
        """Delete a segment."""
        with current_hub().db.transaction() as session:
            segment = segments.get_segment(session, g.merchant_id, segment_id)
            segments.delete_segment(session, segment, actor=g.actor)
