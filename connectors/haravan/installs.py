"""Which connection a Haravan shop belongs to: the one that completed OAuth for it.

App webhooks all reach ``/webhooks/haravan`` and name their shop only by
``X-Haravan-Org-Id``. A merchant can type any ``org_id`` into a connection's
settings, so the settings never decide who receives them: the OAuth callback
records the shop here, one row per org id (the primary key), and only that
connection is chosen (``hub.claim_install`` records it, ``hub.installed_connection``
finds it). A later OAuth for the same shop takes the row over.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub import Model
from hub import UTCDateTime
from hub import utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class HaravanInstall(Model):
    """A shop's org id and the connection whose OAuth installed the app in it."""

    __tablename__ = "haravan_installs"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("connections.id", ondelete="CASCADE"), unique=True
    )
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
