"""Member imports started from the console or the API: an uploaded file, imported by a job.

Each upload lives in the instance folder under ``imports/<merchant id>/``: the
file as sent, its state (``<id>.json``, written by whoever changes it last:
the upload, then the job), the id of the job that imports it (``<id>.job``)
and the refused rows (``<id>.errors.csv``). An upload's id is 32 random hex
digits, and it is looked up only in its merchant's folder, so no merchant
reaches another's file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import BinaryIO

from hub.db import utcnow
from hub.errors import Conflict
from hub.errors import HubError
from hub.errors import NotFound
from hub.importer.reading import check_encoding_name
from hub.importer.reading import preview
from hub.importer.running import import_members
from hub.job_status import job_status

if TYPE_CHECKING:
    from hub.core import Hub

_ID = re.compile(r"[0-9a-f]{32}")
JOB = "hub.importer.uploads.run_import"


@dataclass
class Upload:
    """One uploaded members file and where its import stands.

    ``status``: ``uploaded`` (checked, not started), ``queued``, ``running``,
    ``done`` or ``failed`` (``problem`` says why).
    """

    id: str
    merchant_id: int
    filename: str
    encoding: str
    created_at: str
    status: str = "uploaded"
    counts: dict[str, int] = field(default_factory=dict)
    problem: str | None = None
    has_errors: bool = False


def folder(hub: Hub, merchant_id: int) -> Path:
    return Path(hub.app.instance_path) / "imports" / str(int(merchant_id))


def _path(hub: Hub, upload: Upload, suffix: str) -> Path:
    return folder(hub, upload.merchant_id) / f"{upload.id}{suffix}"


def _save(hub: Hub, upload: Upload) -> None:
    target = _path(hub, upload, ".json")
    partial = target.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(upload)), encoding="utf-8")
    os.replace(partial, target)


def save_upload(
    hub: Hub, merchant_id: int, stream: BinaryIO, filename: str, encoding: str = "utf-8"
) -> Upload:
    """Keep an uploaded file, checked: its encoding and headers read, nothing imported.

    :raise HubError: the file cannot be read as a members file (nothing is kept).
    """
    upload = Upload(
        id=secrets.token_hex(16),
        merchant_id=merchant_id,
        filename=Path(filename or "members.csv").name[:200],
        encoding=check_encoding_name(encoding),
        created_at=utcnow().isoformat(),
    )
    folder(hub, merchant_id).mkdir(parents=True, exist_ok=True)
    path = _path(hub, upload, ".csv")
    with path.open("wb") as out:
        shutil.copyfileobj(stream, out, 1024 * 1024)
    try:
        preview(path, upload.encoding, limit=1)
    except HubError:
        path.unlink()
        raise
    _save(hub, upload)
    return upload


def get_upload(hub: Hub, merchant_id: int, upload_id: str) -> Upload:
    """The merchant's upload ``upload_id``.

    :raise NotFound: no such upload in this merchant's folder.
    """
    state = folder(hub, merchant_id) / f"{upload_id}.json"
    if not _ID.fullmatch(upload_id or "") or not state.is_file():
        raise NotFound(f"no import {upload_id} of this merchant", code="import_not_found")
    return Upload(**json.loads(state.read_text(encoding="utf-8")))


def preview_upload(hub: Hub, upload: Upload, limit: int = 10) -> dict[str, Any]:
    """The upload's column mapping and first rows (``hub.importer.preview``)."""
    return preview(_path(hub, upload, ".csv"), upload.encoding, limit=limit)


def start_import(hub: Hub, upload: Upload) -> str | None:
    """Queue the upload's import as a background job; its id, or None when it ran at once.

    :raise HubError: the import was already started.
    """
    if upload.status != "uploaded":
        raise Conflict(f"import {upload.id} was already started", code="import_started")
    upload.status = "queued"
    _save(hub, upload)
    meta = {"merchant_id": upload.merchant_id}
    job = hub.jobs.enqueue(JOB, upload.merchant_id, upload.id, meta=meta)
    # Inline (no runner, no Redis) the job has run already and ``job`` is its result.
    ran_inline = hub.jobs.is_inline and not hub.jobs.uses_table
    job_id = None if ran_inline or job is None else str(job.id)
    if job_id is not None:
        _path(hub, upload, ".job").write_text(str(job_id), encoding="utf-8")
    return job_id


def job_id_of(hub: Hub, upload: Upload) -> str | None:
    path = _path(hub, upload, ".job")
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def progress_of(hub: Hub, upload: Upload) -> dict[str, Any]:
    """Rows done of the total: the job's last report while it runs, the counts once done."""
    if upload.status == "done":
        done = sum(upload.counts.get(k, 0) for k in ("created", "updated", "unchanged", "rejected"))
        return {"done": done, "total": done}
    job_id = job_id_of(hub, upload)
    status = job_status(hub, job_id, upload.merchant_id) if job_id else None
    reported = (status or {}).get("progress") or {}
    return {"done": int(reported.get("done") or 0), "total": reported.get("total")}


def errors_path(hub: Hub, upload: Upload) -> Path | None:
    """The refused rows of a finished import, or None when it refused none."""
    path = _path(hub, upload, ".errors.csv")
    return path if upload.has_errors and path.is_file() else None


def run_import(merchant_id: int, upload_id: str) -> dict[str, int]:
    """Job: import an upload, reporting progress after each chunk; keep the counts."""
    from hub.core import current_hub

    hub = current_hub()
    upload = get_upload(hub, merchant_id, upload_id)
    upload.status = "running"
    _save(hub, upload)
    try:
        report = import_members(
            hub,
            merchant_id,
            _path(hub, upload, ".csv"),
            errors_path=_path(hub, upload, ".errors.csv"),
            progress=hub.jobs.report_progress,
            encoding=upload.encoding,
        )
    except HubError as exc:
        upload.status, upload.problem = "failed", exc.message
        _save(hub, upload)
        return {}
    except Exception:
        # The job fails (and is retried, or listed by ``hub jobs failed``); the
        # page stops waiting and shows why, without the server's insides.
        upload.status = "failed"
        upload.problem = "the import stopped unexpectedly; the operator can replay it"
        _save(hub, upload)
        raise
    upload.status = "done"
    upload.counts = {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
        "points_credited": report.points_credited,
    }
    upload.has_errors = report.errors_path is not None
    _save(hub, upload)
    return upload.counts
