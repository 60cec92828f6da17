"""Haravan connector table: which connection completed OAuth for each shop

Existing installs are recorded from the audit log of OAuth callbacks, the
newest per shop, when its connection still exists.

Revision ID: haravan_0002
Revises: haravan_0001
Create Date: 2026-12-06 22:40:00.000000
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import hub.db

revision = "haravan_0002"
down_revision = "haravan_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "haravan_installs",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column(
            "connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("installed_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_haravan_installs_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_haravan_installs")),
        sa.UniqueConstraint("connection_id", name=op.f("uq_haravan_installs_connection_id")),
    )
    backfill()


def backfill() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT a.object_id, a.data, a.created_at FROM audit_log a "
            "WHERE a.actor = 'haravan_oauth' AND a.action = 'connection.installed' "
            "ORDER BY a.id"
        )
    ).all()
    owners: dict[str, tuple[int, object]] = {}
    for object_id, data, created_at in rows:
        data = json.loads(data) if isinstance(data, str) else (data or {})
        if data.get("org_id") and str(object_id).isdigit():
            owners[str(data["org_id"])] = (int(object_id), created_at)
    claimed: set[int] = set()
    for shop, (connection_id, created_at) in reversed(list(owners.items())):
        exists = bind.execute(
            sa.text("SELECT 1 FROM connections WHERE id = :id AND connector = 'haravan'"),
            {"id": connection_id},
        ).first()
        if exists is None or connection_id in claimed:
            continue
        claimed.add(connection_id)
        bind.execute(
            sa.text(
                "INSERT INTO haravan_installs (org_id, connection_id, installed_at) "
                "VALUES (:shop, :id, :at)"
            ),
            {"shop": shop, "id": connection_id, "at": created_at},
        )


def downgrade() -> None:
    op.drop_table("haravan_installs")
