"""The job table of the embedded runner: background work kept in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import JSONType
from hub.db import Model
from hub.db import UTCDateTime
from hub.db import utcnow


class JobRecord(Model):
    """One job of the embedded runner, from its enqueue to its end.

    ``status`` is ``queued`` (waiting for ``run_at``), ``running`` (claimed by
    ``claimed_by`` until ``lease_until``; past that another runner takes it
    again), ``done`` or ``failed``. ``key`` is the deterministic job id: one
    row per key, so enqueueing it again while it waits, runs or has failed
    does nothing.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_at", "status", "run_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str | None] = mapped_column(String(255), unique=True)
    func: Mapped[str] = mapped_column(String(255))
    args: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    queue: Mapped[str] = mapped_column(String(32), default="default")
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    merchant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Waits between transient failures, in seconds; one retry per entry.
    retry_intervals: Mapped[list[int]] = mapped_column(JSONType, default=list)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: What the job reported of its progress, e.g. ``{"done": 200, "total": 10000}``.
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
