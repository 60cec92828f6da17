"""Import: upload a members CSV, check the column mapping and first rows, import in the background.

The same service as ``POST /api/v1/members/imports`` (``hub.importer.uploads``).
"""

from __future__ import annotations

from flask import redirect
from flask import request
from flask import send_file
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.errors import HubError
from hub.errors import NotFound
from hub.importer import uploads

#: The columns a file may have: what each holds, and the Vietnamese headers it is also read under.
COLUMNS = (
    ("phone", _l("Phone"), "sdt, so_dien_thoai, dien_thoai"),
    ("email", _l("Email"), "thu_dien_tu"),
    ("name", _l("Name"), "ho_ten, ho_va_ten, ten_khach_hang"),
    ("birthday", _l("Birthday (YYYY-MM-DD or DD/MM/YYYY)"), "ngay_sinh"),
    ("opening_points", _l("Opening points"), "diem, diem_thuong, diem_hien_tai"),
    ("total_spent", _l("Total spent"), "tong_chi_tieu"),
)


def _upload(import_id: str) -> uploads.Upload:
    return uploads.get_upload(current_hub(), user().merchant_id, import_id)


@bp.get("/members/import")
@requires("manager")
def import_page():
    return render("console/import.html", columns=COLUMNS)


@bp.post("/members/import")
@requires("manager")
def import_upload():
    stored = request.files.get("file")
    if stored is None or not stored.filename:
        problem = _("Choose a CSV file to upload.")
        return render("console/import.html", status=422, columns=COLUMNS, problem=problem)
    try:
        upload = uploads.save_upload(
            current_hub(),
            user().merchant_id,
            stored.stream,
            stored.filename,
            request.form.get("encoding") or "utf-8",
        )
    except HubError as exc:
        problem = _("This file cannot be imported: %(reason)s", reason=exc.message)
        return render("console/import.html", status=400, columns=COLUMNS, problem=problem)
    return redirect(url_for("console.import_status", import_id=upload.id))


@bp.get("/members/import/<string:import_id>")
@requires("manager")
def import_status(import_id: str):
    hub, upload = current_hub(), _upload(import_id)
    shown = uploads.preview_upload(hub, upload) if upload.status == "uploaded" else None
    return render(
        "console/import_status.html",
        upload=upload,
        shown=shown,
        progress=uploads.progress_of(hub, upload),
        has_errors=uploads.errors_path(hub, upload) is not None,
    )


@bp.get("/members/import/<string:import_id>/progress")
@requires("manager")
def import_progress(import_id: str):
    hub, upload = current_hub(), _upload(import_id)
    return render(
        "console/_import_progress.html",
        upload=upload,
        progress=uploads.progress_of(hub, upload),
        has_errors=uploads.errors_path(hub, upload) is not None,
    )


@bp.post("/members/import/<string:import_id>/start")
@requires("manager")
def import_start(import_id: str):
    uploads.start_import(current_hub(), _upload(import_id))
    return redirect(url_for("console.import_status", import_id=import_id))


@bp.get("/members/import/<string:import_id>/errors")
@requires("manager")
def import_errors(import_id: str):
    upload = _upload(import_id)
    path = uploads.errors_path(current_hub(), upload)
    if path is None:
        raise NotFound(f"import {import_id} refused no rows")
    return send_file(
        path, mimetype="text/csv", as_attachment=True, download_name=f"{upload.id}.errors.csv"
    )
