"""email channel: e-mail addresses as recipients and opt-outs, ZNS tags, consent evidence

Revision ID: 0009_email20
Revises: 0008_segments
Create Date: 2026-12-07 04:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_email20"
down_revision = "0008_segments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column(
            "recipient", existing_type=sa.String(length=40), type_=sa.String(length=254)
        )
        batch_op.add_column(sa.Column("tag", sa.String(length=16), nullable=True))
    with op.batch_alter_table("message_opt_outs", schema=None) as batch_op:
        batch_op.alter_column(
            "address",
            existing_type=sa.String(length=40),
            type_=sa.String(length=254),
            existing_nullable=False,
        )
    with op.batch_alter_table("member_consents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("evidence", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member_consents", schema=None) as batch_op:
        batch_op.drop_column("evidence")
        batch_op.drop_column("actor")
    with op.batch_alter_table("message_opt_outs", schema=None) as batch_op:
        batch_op.alter_column(
            "address",
            existing_type=sa.String(length=254),
            type_=sa.String(length=40),
            existing_nullable=False,
        )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("tag")
        batch_op.alter_column(
            "recipient", existing_type=sa.String(length=254), type_=sa.String(length=40)
        )
