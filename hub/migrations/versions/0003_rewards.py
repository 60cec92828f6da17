"""tiers, tier history and notices, rewards catalog and vouchers

Revision ID: 0003_rewards
Revises: 0002_points
Create Date: 2026-11-23 18:31:04.471122
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db

revision = "0003_rewards"
down_revision = "0002_points"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tier_settings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("downgrade_policy", sa.String(length=16), nullable=False),
        sa.Column("near_share", hub.db.Money(precision=20, scale=4), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_tier_settings_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_settings")),
        sa.UniqueConstraint("merchant_id", name=op.f("uq_tier_settings_merchant_id")),
    )
    op.create_table(
        "tiers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("threshold", hub.db.Money(precision=20, scale=4), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("window", sa.String(length=16), nullable=False),
        sa.Column("earn_multiplier", hub.db.Money(precision=20, scale=4), nullable=False),
        sa.Column("benefits", sa.Text(), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_tiers_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tiers")),
        sa.UniqueConstraint("merchant_id", "name", name=op.f("uq_tiers_merchant_id_name")),
    )
    with op.batch_alter_table("tiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tiers_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "member_tiers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("tier_name", sa.String(length=100), nullable=True),
        sa.Column(
            "previous_tier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("is_override", sa.Boolean(), nullable=False),
        sa.Column("started_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("override_until", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_tiers_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_member_tiers_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["previous_tier_id"],
            ["tiers.id"],
            name=op.f("fk_member_tiers_previous_tier_id_tiers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tier_id"],
            ["tiers.id"],
            name=op.f("fk_member_tiers_tier_id_tiers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_tiers")),
    )
    with op.batch_alter_table("member_tiers", schema=None) as batch_op:
        batch_op.create_index("ix_member_tiers_member", ["member_id", "ended_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_member_tiers_merchant_id"), ["merchant_id"], unique=False
        )
        batch_op.create_index("ix_member_tiers_review", ["ended_at", "review_at"], unique=False)

    op.create_table(
        "rewards",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", hub.db.Money(precision=20, scale=4), nullable=True),
        sa.Column("max_discount", hub.db.Money(precision=20, scale=4), nullable=True),
        sa.Column("product_sku", sa.String(length=100), nullable=True),
        sa.Column("points_cost", sa.BigInteger(), nullable=False),
        sa.Column("min_order", hub.db.Money(precision=20, scale=4), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column(
            "min_tier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("stock", sa.BigInteger(), nullable=True),
        sa.Column("per_member_limit", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_rewards_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["min_tier_id"],
            ["tiers.id"],
            name=op.f("fk_rewards_min_tier_id_tiers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rewards_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "tier_notices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_tier_notices_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_tier_notices_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tier_id"],
            ["tiers.id"],
            name=op.f("fk_tier_notices_tier_id_tiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_notices")),
        sa.UniqueConstraint("merchant_id", "key", name=op.f("uq_tier_notices_merchant_id_key")),
    )
    with op.batch_alter_table("tier_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tier_notices_member_id"), ["member_id"], unique=False)

    op.create_table(
        "vouchers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("reward_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reward_name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", hub.db.Money(precision=20, scale=4), nullable=True),
        sa.Column("max_discount", hub.db.Money(precision=20, scale=4), nullable=True),
        sa.Column("product_sku", sa.String(length=100), nullable=True),
        sa.Column("min_order", hub.db.Money(precision=20, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column(
            "debit_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("points_returned", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_reference", sa.String(length=120), nullable=True),
        sa.Column(
            "used_order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("used_order_total", hub.db.Money(precision=20, scale=4), nullable=True),
        sa.Column("used_discount", hub.db.Money(precision=20, scale=4), nullable=True),
        sa.Column("cancelled_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expired_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["debit_entry_id"],
            ["point_entries.id"],
            name=op.f("fk_vouchers_debit_entry_id_point_entries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_vouchers_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_vouchers_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"],
            ["rewards.id"],
            name=op.f("fk_vouchers_reward_id_rewards"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["used_order_id"],
            ["orders.id"],
            name=op.f("fk_vouchers_used_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vouchers")),
        sa.UniqueConstraint("merchant_id", "code", name=op.f("uq_vouchers_merchant_id_code")),
    )
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.create_index("ix_vouchers_expiry", ["status", "expires_at"], unique=False)
        batch_op.create_index("ix_vouchers_member", ["member_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vouchers_reward_id"), ["reward_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vouchers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vouchers_reward_id"))
        batch_op.drop_index("ix_vouchers_member")
        batch_op.drop_index("ix_vouchers_expiry")

    op.drop_table("vouchers")
    with op.batch_alter_table("tier_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tier_notices_member_id"))

    op.drop_table("tier_notices")
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rewards_merchant_id"))

    op.drop_table("rewards")
    with op.batch_alter_table("member_tiers", schema=None) as batch_op:
        batch_op.drop_index("ix_member_tiers_review")
        batch_op.drop_index(batch_op.f("ix_member_tiers_merchant_id"))
        batch_op.drop_index("ix_member_tiers_member")

    op.drop_table("member_tiers")
    with op.batch_alter_table("tiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tiers_merchant_id"))

    op.drop_table("tiers")
    op.drop_table("tier_settings")
