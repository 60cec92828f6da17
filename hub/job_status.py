"""Where one background job stands, on the job table or on rq: for ``GET /api/v1/jobs/<id>``."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from hub import job_table

if TYPE_CHECKING:
    from hub.core import Hub

#: rq's job statuses in the job table's terms.
RQ_STATUSES = {"started": "running", "finished": "done", "failed": "failed"}


#: The largest id a BIGINT (PostgreSQL) or INTEGER (SQLite) column holds.
MAX_ROW_ID = 2**63 - 1


def job_status(hub: Hub, job_id: str, merchant_id: int) -> dict[str, Any] | None:
    """Where one of the merchant's jobs stands, or None when it has no such job.

    ``status`` is ``queued``, ``running``, ``done`` or ``failed``; ``progress``
    is what the job last reported (``Jobs.report_progress``). A job is the
    merchant's when it was enqueued with ``meta={"merchant_id": ...}``.
    """
    if not hub.jobs.is_inline:
        return _rq_status(hub, job_id, merchant_id)
    # A table row's id is a 64-bit integer; anything else names no row.
    if not job_id.isdigit() or int(job_id) > MAX_ROW_ID:
        return None
    with hub.db.session() as session:
        row = job_table.get_job(session, int(job_id), merchant_id)
        if row is None:
            return None
        return {
            "id": str(row.id),
            "status": row.status,
            "progress": row.progress,
            "attempts": row.attempts,
            "created_at": row.created_at,
            "started_at": row.started_at,
            "ended_at": row.ended_at,
        }


def _rq_status(hub: Hub, job_id: str, merchant_id: int) -> dict[str, Any] | None:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(job_id, connection=hub.jobs.redis)
    except NoSuchJobError:
        return None
    if not (job.origin or "").startswith(f"{hub.jobs.prefix}-"):
        return None  # another hub's job on the same Redis
    if (job.meta or {}).get("merchant_id") != merchant_id:
        return None
    state = job.get_status()
    return {
        "id": job.id,
        "status": RQ_STATUSES.get(str(getattr(state, "value", state)), "queued"),
        "progress": (job.meta or {}).get("progress"),
        "attempts": None,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "ended_at": job.ended_at,
    }
