"""report_member_days: what each member bought on each local day, for the customers report

Revision ID: 0018_report_member_days
Revises: 0017_referral_refunds_secrets
Create Date: 2026-12-07 13:45:00.000000

The customers report and the participation report's active members read this
rollup instead of the orders. It is filled like the daily rollups: every day
on which a member bought is marked stale here and recomputed at the next read
(or by ``hub reports rebuild``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_report_member_days"
down_revision = "0017_referral_refunds_secrets"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_member_days",
        sa.Column("merchant_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("revenue_e4", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_report_member_days_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "merchant_id", "day", "member_id", name=op.f("pk_report_member_days")
        ),
    )
    op.create_index(
        "ix_report_member_days_member", "report_member_days", ["merchant_id", "member_id", "day"]
    )
    op.execute(
        "INSERT INTO report_stale_days (merchant_id, day)"
        " SELECT DISTINCT merchant_id, day FROM report_days"
        " WHERE metric = 'orders' AND dimension LIKE 'member:%'"
        " ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    op.drop_index("ix_report_member_days_member", table_name="report_member_days")
    op.drop_table("report_member_days")
