"""points engine: program versions, order accruals and refunds, entry program versions

Revision ID: 0002_points
Revises: 0001_core
Create Date: 2026-11-23 18:27:07.567994
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db

revision = "0002_points"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "program_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_program_versions_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_versions")),
        sa.UniqueConstraint(
            "merchant_id", "version", name=op.f("uq_program_versions_merchant_id_version")
        ),
    )
    op.create_table(
        "order_accruals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("program_version", sa.Integer(), nullable=False),
        sa.Column("base", hub.db.Money(precision=20, scale=4), nullable=False),
        sa.Column("earned", sa.BigInteger(), nullable=False),
        sa.Column("reversed", sa.BigInteger(), nullable=False),
        sa.Column("refunded", hub.db.Money(precision=20, scale=4), nullable=False),
        sa.Column("spent", hub.db.Money(precision=20, scale=4), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_order_accruals_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_order_accruals_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_accruals_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_accruals")),
        sa.UniqueConstraint("order_id", name=op.f("uq_order_accruals_order_id")),
    )
    with op.batch_alter_table("order_accruals", schema=None) as batch_op:
        batch_op.create_index("ix_order_accruals_member", ["member_id", "order_id"], unique=False)

    op.create_table(
        "order_refunds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("order_external_id", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("amount", hub.db.Money(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("refunded_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "lines",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("applied_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_order_refunds_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_refunds_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refunds")),
        sa.UniqueConstraint(
            "merchant_id",
            "source",
            "order_external_id",
            "external_id",
            name="uq_order_refunds_source_order_refund",
        ),
        sa.UniqueConstraint(
            "order_id", "external_id", name=op.f("uq_order_refunds_order_id_external_id")
        ),
    )
    with op.batch_alter_table("point_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("program_version", sa.Integer(), nullable=True))
        batch_op.create_index("ix_point_entries_order", ["order_id"], unique=False)

    with op.batch_alter_table("point_lots", schema=None) as batch_op:
        batch_op.create_index("ix_point_lots_expires", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("point_lots", schema=None) as batch_op:
        batch_op.drop_index("ix_point_lots_expires")

    with op.batch_alter_table("point_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_point_entries_order")
        batch_op.drop_column("program_version")

    op.drop_table("order_refunds")
    with op.batch_alter_table("order_accruals", schema=None) as batch_op:
        batch_op.drop_index("ix_order_accruals_member")

    op.drop_table("order_accruals")
    op.drop_table("program_versions")
