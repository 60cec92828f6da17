"""POS connector tables: counter keys, sales by receipt, counter requests

Revision ID: pos_0001
Revises:
Create Date: 2026-11-23 18:57:56.928413
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db

revision = "pos_0001"
down_revision = None
branch_labels = ("pos",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "pos_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("prefix", sa.String(length=24), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_pos_keys_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_pos_keys_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_pos_keys_prefix")),
    )
    with op.batch_alter_table("pos_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pos_keys_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pos_keys_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "pos_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column(
            "answer",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_pos_requests_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_pos_requests_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_requests")),
        sa.UniqueConstraint(
            "connection_id", "request_id", name=op.f("uq_pos_requests_connection_id_request_id")
        ),
    )
    with op.batch_alter_table("pos_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pos_requests_merchant_id"), ["merchant_id"], unique=False
        )

    op.create_table(
        "pos_sales",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("receipt", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("sold_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("points_redeemed", sa.BigInteger(), nullable=False),
        sa.Column("points_discount", hub.db.Money(precision=20, scale=4), nullable=False),
        sa.Column(
            "redeem_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "order_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("voided_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_pos_sales_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_pos_sales_member_id_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_pos_sales_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_pos_sales_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["redeem_entry_id"],
            ["point_entries.id"],
            name=op.f("fk_pos_sales_redeem_entry_id_point_entries"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_sales")),
        sa.UniqueConstraint(
            "connection_id", "receipt", name=op.f("uq_pos_sales_connection_id_receipt")
        ),
    )
    with op.batch_alter_table("pos_sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pos_sales_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pos_sales_merchant_id"), ["merchant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pos_sales", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_sales_merchant_id"))
        batch_op.drop_index(batch_op.f("ix_pos_sales_member_id"))

    op.drop_table("pos_sales")
    with op.batch_alter_table("pos_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_requests_merchant_id"))

    op.drop_table("pos_requests")
    with op.batch_alter_table("pos_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pos_keys_merchant_id"))
        batch_op.drop_index(batch_op.f("ix_pos_keys_connection_id"))

    op.drop_table("pos_keys")
