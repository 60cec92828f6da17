"""Shopify connector table: which connection completed OAuth for each store

Existing installs are recorded from the audit log of OAuth callbacks, the
newest per store, when its connection still exists.

Revision ID: shopify_0001
Revises:
Create Date: 2026-12-06 22:30:00.000000
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import hub.db

revision = "shopify_0001"
down_revision = None
branch_labels = ("shopify",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "shopify_installs",
        sa.Column("shop", sa.String(length=255), nullable=False),
        sa.Column(
            "connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("installed_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_shopify_installs_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shop", name=op.f("pk_shopify_installs")),
        sa.UniqueConstraint("connection_id", name=op.f("uq_shopify_installs_connection_id")),
    )
    backfill()


def backfill() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT a.object_id, a.data, a.created_at FROM audit_log a "
            "WHERE a.actor = 'shopify_oauth' AND a.action = 'connection.installed' "
            "ORDER BY a.id"
        )
    ).all()
    owners: dict[str, tuple[int, object]] = {}
    for object_id, data, created_at in rows:
        data = json.loads(data) if isinstance(data, str) else (data or {})
        if data.get("shop") and str(object_id).isdigit():
            owners[data["shop"]] = (int(object_id), created_at)
    claimed: set[int] = set()
    for shop, (connection_id, created_at) in reversed(list(owners.items())):
        exists = bind.execute(
            sa.text("SELECT 1 FROM connections WHERE id = :id AND connector = 'shopify'"),
            {"id": connection_id},
        ).first()
        if exists is None or connection_id in claimed:
            continue
        claimed.add(connection_id)
        bind.execute(
            sa.text(
                "INSERT INTO shopify_installs (shop, connection_id, installed_at) "
                "VALUES (:shop, :id, :at)"
            ),
            {"shop": shop, "id": connection_id, "at": created_at},
        )


def downgrade() -> None:
    op.drop_table("shopify_installs")
