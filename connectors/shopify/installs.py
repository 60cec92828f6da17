"""Which connection a Shopify store belongs to: the one that completed OAuth for it.

App-wide deliveries (the privacy topics) name their store only by
``X-Shopify-Shop-Domain``. A merchant can type any shop into a connection's
settings, so the settings never decide who receives them: the OAuth callback
records the store here, one row per shop (the primary key), and only that
connection is chosen. A later OAuth for the same store (a reinstall, or a
store that moved to another merchant with its owner's consent) takes the row
over.
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


class ShopifyInstall(Model):
    """A store's domain and the connection whose OAuth installed the app in it."""

    __tablename__ = "shopify_installs"

    shop: Mapped[str] = mapped_column(String(255), primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("connections.id", ondelete="CASCADE"), unique=True
    )
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def claim_shop(session: Session, shop: str, connection_id: int) -> None:
    """Record, in the caller's transaction, that ``connection_id`` completed OAuth for ``shop``."""
    for _attempt in (1, 2):
        install = session.get(ShopifyInstall, shop, with_for_update=True)
        if install is not None:
            install.connection_id = connection_id
            install.installed_at = utcnow()
            return
        try:
            with session.begin_nested():
                session.add(ShopifyInstall(shop=shop, connection_id=connection_id))
            return
        except IntegrityError:
            continue  # a concurrent OAuth for the same store inserted first: take it over
    raise RuntimeError(f"could not record the install of {shop}")


def installed_connection(session: Session, shop: str) -> Connection | None:
    """Return the connection that completed OAuth for ``shop``, unless it was deleted."""
    return session.scalar(
        select(Connection)
        .join(ShopifyInstall, ShopifyInstall.connection_id == Connection.id)
        .where(ShopifyInstall.shop == shop, Connection.status != "deleted")
    )
