"""referrals note when their order's refund was seen; merchants' events signing secrets

Revision ID: 0017_referral_refunds_secrets
Revises: 0016_members_joined_via
Create Date: 2026-12-07 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db

revision = "0017_referral_refunds_secrets"
down_revision = "0016_members_joined_via"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, hub.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(_when("refund_seen_at", nullable=True))
        batch_op.create_index("ix_referrals_order", ["order_id"], unique=False)
        batch_op.create_index(
            "ix_referrals_refund_seen", ["status", "refund_seen_at"], unique=False
        )
    # Pending or rewarded referrals whose order was refunded before this revision:
    # settlement now reads only the stamped ones, so stamp those it would have found.
    op.execute(
        "UPDATE referrals SET refund_seen_at = updated_at "
        "WHERE status IN ('pending', 'rewarded') AND order_id IN ("
        "SELECT id FROM orders WHERE cancelled_at IS NOT NULL "
        "OR financial_status IN ('refunded', 'partially_refunded', 'voided') "
        "OR id IN (SELECT order_id FROM order_refunds WHERE order_id IS NOT NULL))"
    )
    op.create_table(
        "event_signing_secrets",
        sa.Column("id", _id(), autoincrement=True, nullable=False),
        sa.Column("merchant_id", _id(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column("hint", sa.String(length=16), nullable=False),
        _when("created_at"),
        _when("expires_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_event_signing_secrets_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_signing_secrets")),
    )
    with op.batch_alter_table("event_signing_secrets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_signing_secrets_merchant_id"), ["merchant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("event_signing_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_signing_secrets_merchant_id"))
    op.drop_table("event_signing_secrets")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_refund_seen")
        batch_op.drop_index("ix_referrals_order")
        batch_op.drop_column("refund_seen_at")
