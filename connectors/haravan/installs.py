"""Which connection a Haravan shop belongs to: the one that completed OAuth for it.

App webhooks all reach ``/webhooks/haravan`` and name their shop only by
``X-Haravan-Org-Id``. A merchant can type any ``org_id`` into a connection's
settings, so the settings never decide who receives them: the OAuth callback
records the shop here, one row per org id (the primary key), and only that
connection is chosen (``hub.claim_install`` records it, ``hub.installed_connection``
finds it). A later OAuth for the same shop takes the row over.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub import Model
from hub import StoreInstall


class HaravanInstall(StoreInstall, Model):
    """A shop's org id and the connection whose OAuth installed the app in it."""

    __tablename__ = "haravan_installs"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
