"""referrals and points for actions: referral codes, friends, terms; event rules and events

Revision ID: 0013_referrals
Revises: 0012_audit_index
Create Date: 2026-12-07 04:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db

revision = "0013_referrals"
down_revision = "0012_audit_index"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, hub.db.UTCDateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "referral_settings",
        sa.Column("merchant_id", _id(), nullable=False),
        sa.Column("settings", _json(), nullable=False),
        _when("updated_at"),
        _fk("referral_settings", "merchant_id", "merchants", "CASCADE"),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_referral_settings")),
    )
    op.create_table(
        "referral_codes",
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("merchant_id", _id(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        _when("created_at"),
        _fk("referral_codes", "member_id", "members", "CASCADE"),
        _fk("referral_codes", "merchant_id", "merchants", "CASCADE"),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_referral_codes")),
        sa.UniqueConstraint("merchant_id", "code", name=op.f("uq_referral_codes_merchant_id_code")),
    )
    op.create_table(
        "referrals",
        sa.Column("id", _id(), nullable=False),
        sa.Column("merchant_id", _id(), nullable=False),
        sa.Column("referrer_id", _id(), nullable=False),
        sa.Column("friend_id", _id(), nullable=False),
        sa.Column("connection_id", _id(), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("order_id", _id(), nullable=True),
        _when("due_at", nullable=True),
        _when("rewarded_at", nullable=True),
        sa.Column("rewards", _json(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _fk("referrals", "merchant_id", "merchants", "CASCADE"),
        _fk("referrals", "referrer_id", "members", "CASCADE"),
        _fk("referrals", "friend_id", "members", "CASCADE"),
        _fk("referrals", "connection_id", "connections", "SET NULL"),
        _fk("referrals", "order_id", "orders", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint(
            "merchant_id", "friend_id", name=op.f("uq_referrals_merchant_id_friend_id")
        ),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index("ix_referrals_referrer", ["referrer_id", "status"], unique=False)
        batch_op.create_index(
            "ix_referrals_merchant_status", ["merchant_id", "status", "id"], unique=False
        )

    _actions()


def _actions() -> None:
    op.create_table(
        "action_rules",
        sa.Column("id", _id(), nullable=False),
        sa.Column("merchant_id", _id(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("limit_count", sa.Integer(), nullable=True),
        sa.Column("limit_period", sa.String(length=8), nullable=True),
        sa.Column("first_time_only", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _when("created_at"),
        _fk("action_rules", "merchant_id", "merchants", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_rules")),
        sa.UniqueConstraint("merchant_id", "kind", name=op.f("uq_action_rules_merchant_id_kind")),
    )
    op.create_table(
        "member_actions",
        sa.Column("id", _id(), nullable=False),
        sa.Column("merchant_id", _id(), nullable=False),
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        _when("occurred_at"),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("data", _json(), nullable=False),
        _when("created_at"),
        _fk("member_actions", "merchant_id", "merchants", "CASCADE"),
        _fk("member_actions", "member_id", "members", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_actions")),
        sa.UniqueConstraint(
            "merchant_id",
            "idempotency_key",
            name=op.f("uq_member_actions_merchant_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("member_actions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_actions_member_kind", ["member_id", "kind", "occurred_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("member_actions")
    op.drop_table("action_rules")
    op.drop_table("referrals")
    op.drop_table("referral_codes")
    op.drop_table("referral_settings")
