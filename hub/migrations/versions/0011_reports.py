"""reports: daily rollups per merchant and the days marked for recomputing

Revision ID: 0011_reports
Revises: 0010_campaigns
Create Date: 2026-12-07 04:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_reports"
down_revision = "0010_campaigns"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_INDEXES = (
    ("point_entries", "ix_point_entries_merchant_created", ["merchant_id", "created_at"]),
    ("members", "ix_members_merchant_created", ["merchant_id", "created_at"]),
    ("order_refunds", "ix_order_refunds_merchant_refunded", ["merchant_id", "refunded_at"]),
    ("vouchers", "ix_vouchers_used_order", ["used_order_id"]),
)


def upgrade() -> None:
    op.create_table(
        "report_days",
        sa.Column("id", _ID, nullable=False),
        sa.Column("merchant_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("dimension", sa.String(length=120), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("amount_e4", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_report_days_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_days")),
        sa.UniqueConstraint(
            "merchant_id",
            "day",
            "metric",
            "dimension",
            name=op.f("uq_report_days_merchant_id_day_metric_dimension"),
        ),
    )
    op.create_table(
        "report_stale_days",
        sa.Column("merchant_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_report_stale_days_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("merchant_id", "day", name=op.f("pk_report_stale_days")),
    )
    for table, name, columns in _INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in _INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    op.drop_table("report_stale_days")
    op.drop_table("report_days")
