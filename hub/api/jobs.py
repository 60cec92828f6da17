"""Background jobs: where one stands, e.g. the tier review a tier change started."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields

from hub.core import current_hub
from hub.errors import NotFound
from hub.job_status import job_status

blp = Blueprint("jobs", __name__, url_prefix="/jobs", description="Background jobs")


class JobProgressSchema(Schema):
    done = fields.Int()
    total = fields.Int(allow_none=True)


class JobSchema(Schema):
    """A background job of the merchant's: ``queued``, ``running``, ``done`` or ``failed``."""

    id = fields.Str()
    status = fields.Str()
    progress = fields.Nested(JobProgressSchema, allow_none=True)
    attempts = fields.Int(allow_none=True)
    created_at = fields.AwareDateTime(allow_none=True)
    started_at = fields.AwareDateTime(allow_none=True)
    ended_at = fields.AwareDateTime(allow_none=True)


@blp.route("/<string:job_id>")
class JobById(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """Get a background job's status and progress (ids come from the calls that start one)."""
        status = job_status(current_hub(), job_id, g.merchant_id)
        if status is None:
            raise NotFound(f"no job {job_id} of this merchant", code="job_not_found")
        return status
