"""Record who did what, in the same transaction as the change itself."""

from __future__ import annotations

from typing import Any

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
