"""Loyalty program settings per merchant, one immutable row per version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import JSONType
from hub.db import Model
from hub.db import UTCDateTime
from hub.db import utcnow


class ProgramVersion(Model):
    """The program's settings as saved at ``created_at``. Never updated, never deleted.

    The version in force for an order is the latest one created at or before
    the order was placed, so a change never rewrites what was already earned.
    """

    __tablename__ = "program_versions"
    __table_args__ = (UniqueConstraint("merchant_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    actor: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
