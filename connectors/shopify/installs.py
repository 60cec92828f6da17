"""Which connection a Shopify store belongs to: the one that completed OAuth for it.

App-wide deliveries (the privacy topics) name their store only by
``X-Shopify-Shop-Domain``. A merchant can type any shop into a connection's
settings, so the settings never decide who receives them: the OAuth callback
records the store here, one row per shop (the primary key), and only that
connection is chosen (``hub.claim_install`` records it, ``hub.installed_connection``
finds it). A later OAuth for the same store (a reinstall, or a
store that moved to another merchant with its owner's consent) takes the row
over.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from hub import Model
from hub import StoreInstall


class ShopifyInstall(StoreInstall, Model):
    """A store's domain and the connection whose OAuth installed the app in it."""

    __tablename__ = "shopify_installs"

    shop: Mapped[str] = mapped_column(String(255), primary_key=True)
