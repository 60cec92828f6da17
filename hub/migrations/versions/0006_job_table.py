"""jobs: the embedded runner's job table, for background work without Redis

Revision ID: 0006_job_table
Revises: 0005_order_source_updated_at
Create Date: 2026-12-06 22:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db

revision = "0006_job_table"
down_revision = "0005_order_source_updated_at"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("func", sa.String(length=255), nullable=False),
        sa.Column("args", _json(), nullable=False),
        sa.Column("kwargs", _json(), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.Column("meta", _json(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_intervals", _json(), nullable=False),
        sa.Column("run_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("progress", _json(), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("key", name=op.f("uq_jobs_key")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_status_run_at", ["status", "run_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_merchant_id"), ["merchant_id"], unique=False)


def downgrade() -> None:
    op.drop_table("jobs")
