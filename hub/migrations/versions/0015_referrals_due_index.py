"""referrals indexed by status and due time, for settlement

Revision ID: 0015_referrals_due_index
Revises: 0014_members_merged_into_index
Create Date: 2026-12-07 13:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0015_referrals_due_index"
down_revision = "0014_members_merged_into_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index("ix_referrals_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_due")
