"""Which connection a Haravan shop belongs to: the one that completed OAuth for it.

App webhooks all reach ``/webhooks/haravan`` and name their shop only by
``X-Haravan-Org-Id``. A merchant can type any ``org_id`` into a connection's
settings, so the settings never decide who receives them: the OAuth callback
records the shop here, one row per org id (the primary key), and only that
connection is chosen. A later OAuth for the same shop takes the row over.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from hub import Connection
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


def claim_shop(session: Session, org_id: str, connection_id: int) -> None:
    """Record, in the caller's transaction, that ``connection_id`` completed OAuth for the shop."""
    for _attempt in (1, 2):
        install = session.get(HaravanInstall, org_id, with_for_update=True)
        if install is not None:
            install.connection_id = connection_id
            install.installed_at = utcnow()
            return
        try:
            with session.begin_nested():
                session.add(HaravanInstall(org_id=org_id, connection_id=connection_id))
            return
        except IntegrityError:
            continue  # a concurrent OAuth for the same shop inserted first: take it over
    raise RuntimeError(f"could not record the install of Haravan shop {org_id}")


def installed_connection(session: Session, org_id: str) -> Connection | None:
    """Return the connection that completed OAuth for the shop, unless it was deleted."""
    return session.scalar(
        select(Connection)
        .join(HaravanInstall, HaravanInstall.connection_id == Connection.id)
        .where(HaravanInstall.org_id == org_id, Connection.status != "deleted")
    )
