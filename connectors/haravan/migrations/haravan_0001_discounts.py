"""Haravan connector table: the discounts created for vouchers, by shop

Revision ID: haravan_0001
Revises:
Create Date: 2026-11-24 04:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db

revision = "haravan_0001"
down_revision = None
branch_labels = ("haravan",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "haravan_discounts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("discount_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_haravan_discounts_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_haravan_discounts")),
        sa.UniqueConstraint(
            "connection_id", "code", name=op.f("uq_haravan_discounts_connection_id_code")
        ),
    )


def downgrade() -> None:
    op.drop_table("haravan_discounts")
