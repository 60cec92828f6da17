"""orders: when the store last changed each order, to refuse older deliveries

Revision ID: 0005_order_source_updated_at
Revises: 0004_messaging
Create Date: 2026-11-24 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db

revision = "0005_order_source_updated_at"
down_revision = "0004_messaging"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("source_updated_at", hub.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("source_updated_at")
