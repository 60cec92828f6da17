"""messaging: the message log, each merchant's messaging settings, opt-outs

Revision ID: 0004_messaging
Revises: 0003_rewards
Create Date: 2026-11-23 18:43:44.882630
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db

revision = "0004_messaging"
down_revision = "0003_rewards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_opt_outs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_message_opt_outs_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_opt_outs")),
        sa.UniqueConstraint(
            "merchant_id",
            "channel",
            "address",
            name=op.f("uq_message_opt_outs_merchant_id_channel_address"),
        ),
    )
    with op.batch_alter_table("message_opt_outs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_opt_outs_merchant_id"), ["merchant_id"], unique=False
        )

    op.create_table(
        "messaging_settings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_messaging_settings_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messaging_settings")),
        sa.UniqueConstraint("merchant_id", name=op.f("uq_messaging_settings_merchant_id")),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "variables",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column(
            "connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("gateway", sa.String(length=64), nullable=True),
        sa.Column("recipient", sa.String(length=40), nullable=True),
        sa.Column("encoding", sa.String(length=8), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("gateway_message_id", sa.String(length=100), nullable=True),
        sa.Column("estimated_cost", hub.db.Money(precision=20, scale=4), nullable=True),
        sa.Column("cost", hub.db.Money(precision=20, scale=4), nullable=True),
        sa.Column("cost_currency", sa.String(length=3), nullable=True),
        sa.Column(
            "voucher_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "history",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("due_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_messages_connection_id_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_messages_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_messages_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["vouchers.id"],
            name=op.f("fk_messages_voucher_id_vouchers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "merchant_id", "dedupe_key", name=op.f("uq_messages_merchant_id_dedupe_key")
        ),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_gateway_id", ["connection_id", "gateway_message_id"], unique=False
        )
        batch_op.create_index("ix_messages_member", ["member_id", "id"], unique=False)
        batch_op.create_index("ix_messages_merchant", ["merchant_id", "id"], unique=False)
        batch_op.create_index(
            "ix_messages_merchant_claimed", ["merchant_id", "claimed_at"], unique=False
        )
        batch_op.create_index(
            "ix_messages_waiting",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text("status IN ('queued', 'held', 'sending')"),
            sqlite_where=sa.text("status IN ('queued', 'held', 'sending')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_messages_waiting",
            postgresql_where=sa.text("status IN ('queued', 'held', 'sending')"),
            sqlite_where=sa.text("status IN ('queued', 'held', 'sending')"),
        )
        batch_op.drop_index("ix_messages_merchant_claimed")
        batch_op.drop_index("ix_messages_merchant")
        batch_op.drop_index("ix_messages_member")
        batch_op.drop_index("ix_messages_gateway_id")

    op.drop_table("messages")
    op.drop_table("messaging_settings")
    with op.batch_alter_table("message_opt_outs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_opt_outs_merchant_id"))

    op.drop_table("message_opt_outs")
