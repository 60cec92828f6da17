"""Record who did what, in the same transaction as the change itself; read it back filtered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import AuditRecord


def record(
    session: Session,
    merchant_id: int,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: Any,
    data: dict[str, Any] | None = None,
) -> None:
    """Add an audit record; never put secrets or full personal data in ``data``."""
    session.add(
        AuditRecord(
            merchant_id=merchant_id,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            data=data or {},
        )
    )


@dataclass(frozen=True)
class AuditFilter:
    """Which records to read: by actor, by action, between two instants.

    ``action`` is exact when it holds a dot (``connection.updated``), else a
    family (``connection`` reads every ``connection.*``).
    """

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_records(
    session: Session,
    merchant_id: int,
    wanted: AuditFilter,
    *,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditRecord]:
    """Return the merchant's audit records matching ``wanted``, newest first, a page at a time.

    ``before_id`` is the last id of the previous page. The console's audit log
    and ``GET /api/v1/audit`` both read through here.
    """
    query = select(AuditRecord).where(AuditRecord.merchant_id == merchant_id)
    if wanted.actor:
        query = query.where(AuditRecord.actor == wanted.actor)
    if wanted.action and "." in wanted.action:
        query = query.where(AuditRecord.action == wanted.action)
    elif wanted.action:
        family = wanted.action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(AuditRecord.action.like(f"{family}.%", escape="\\"))
    if wanted.since is not None:
        query = query.where(AuditRecord.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditRecord.created_at < wanted.until)
    if before_id is not None:
        query = query.where(AuditRecord.id < before_id)
    return list(session.scalars(query.order_by(AuditRecord.id.desc()).limit(limit)))
