"""Member imports: upload a CSV, follow its background job, fetch the refused rows."""

from __future__ import annotations

from datetime import datetime

from flask import g
from flask import request
from flask import send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema
from marshmallow import fields

from hub.core import current_hub
from hub.errors import NotFound
from hub.importer import uploads

blp = Blueprint("imports", __name__, url_prefix="/members/imports", description="Member imports")


class ImportFileSchema(Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "The members CSV: phone, email, name, birthday, opening_points, "
            "total_spent (or sdt, ho_ten, ...)"
        },
    )


class ImportCountsSchema(Schema):
    created = fields.Int()
    updated = fields.Int()
    unchanged = fields.Int()
    rejected = fields.Int()
    points_credited = fields.Int()


class ImportProgressSchema(Schema):
    done = fields.Int()
    total = fields.Int(allow_none=True)


class ImportSchema(Schema):
    """An import: ``queued``, ``running``, ``done`` or ``failed`` (``problem`` says why)."""

    id = fields.Str()
    status = fields.Str()
    filename = fields.Str()
    created_at = fields.AwareDateTime()
    job_id = fields.Str(allow_none=True)
    progress = fields.Nested(ImportProgressSchema)
    counts = fields.Nested(ImportCountsSchema)
    problem = fields.Str(allow_none=True)
    has_errors = fields.Bool(metadata={"description": "GET .../errors has the refused rows"})


def import_view(upload: uploads.Upload) -> dict:
    hub = current_hub()
    return {
        "id": upload.id,
        "status": upload.status,
        "filename": upload.filename,
        "created_at": datetime.fromisoformat(upload.created_at),
        "job_id": uploads.job_id_of(hub, upload),
        "progress": uploads.progress_of(hub, upload),
        "counts": upload.counts,
        "problem": upload.problem,
        "has_errors": uploads.errors_path(hub, upload) is not None,
    }


@blp.route("")
class Imports(MethodView):
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(202, ImportSchema)
    def post(self, files):
        """Upload a members CSV and import it in the background (GET .../{id} follows it).

        The file is checked first (encoding, headers): a file that cannot be read
        answers 400 and nothing is imported. An ``encoding`` form field names the
        file's encoding: utf-8 (the default, with or without BOM), cp1258 or cp1252.
        """
        hub = current_hub()
        stored = files["file"]
        upload = uploads.save_upload(
            hub,
            g.merchant_id,
            stored.stream,
            stored.filename or "",
            request.form.get("encoding") or "utf-8",
        )
        uploads.start_import(hub, upload)
        return import_view(uploads.get_upload(hub, g.merchant_id, upload.id))


@blp.route("/<string:import_id>")
class ImportById(MethodView):
    @blp.response(200, ImportSchema)
    def get(self, import_id):
        """Get where an import stands: status, rows done of the total, counts."""
        return import_view(uploads.get_upload(current_hub(), g.merchant_id, import_id))


@blp.route("/<string:import_id>/errors")
class ImportErrors(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "The refused rows: line, reason, then the row's columns.",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    )
    def get(self, import_id):
        """Download the refused rows (line, reason, the row) as CSV, to fix and import again."""
        hub = current_hub()
        upload = uploads.get_upload(hub, g.merchant_id, import_id)
        path = uploads.errors_path(hub, upload)
        if path is None:
            raise NotFound(f"import {import_id} refused no rows", code="no_import_errors")
        return send_file(
            path, mimetype="text/csv", as_attachment=True, download_name=f"{upload.id}.errors.csv"
        )
