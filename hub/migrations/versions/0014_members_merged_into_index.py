"""members indexed by the member they were merged into

Revision ID: 0014_members_merged_into_index
Revises: 0013_referrals
Create Date: 2026-12-07 05:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0014_members_merged_into_index"
down_revision = "0013_referrals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_members_merged_into_id"), ["merged_into_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_members_merged_into_id"))
