"""campaigns: a merchant's broadcast campaigns and the recipients of each run

Revision ID: 0010_campaigns
Revises: 0009_email20
Create Date: 2026-12-07 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db

revision = "0010_campaigns"
down_revision = "0009_email20"
branch_labels = None
depends_on = None


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _campaigns() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", _id(), nullable=False),
        sa.Column("merchant_id", _id(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("segment_id", _id(), nullable=True),
        sa.Column("member_ids", _json(), nullable=False),
        sa.Column("unmatched", _json(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("templates", _json(), nullable=False),
        sa.Column("zalo_template", _json(), nullable=False),
        sa.Column("reward_id", _id(), nullable=True),
        sa.Column("send_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("repeat_days", sa.Integer(), nullable=True),
        sa.Column("budget", hub.db.Money(), nullable=True),
        sa.Column("holdout_percent", sa.Integer(), nullable=False),
        sa.Column("attribution_days", sa.Integer(), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("stop_reason", sa.String(length=500), nullable=True),
        sa.Column("started_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        _fk("campaigns", "merchant_id", "merchants", "CASCADE"),
        _fk("campaigns", "segment_id", "segments", "SET NULL"),
        _fk("campaigns", "reward_id", "rewards", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("merchant_id", "name", name=op.f("uq_campaigns_merchant_id_name")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaigns_merchant_id"), ["merchant_id"])
        batch_op.create_index(batch_op.f("ix_campaigns_segment_id"), ["segment_id"])
        batch_op.create_index("ix_campaigns_state_send_at", ["state", "send_at"])


def _recipients() -> None:
    op.create_table(
        "campaign_recipients",
        sa.Column("id", _id(), nullable=False),
        sa.Column("campaign_id", _id(), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("group", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", _id(), nullable=True),
        sa.Column("assigned_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        _fk("campaign_recipients", "campaign_id", "campaigns", "CASCADE"),
        _fk("campaign_recipients", "member_id", "members", "CASCADE"),
        _fk("campaign_recipients", "message_id", "messages", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_recipients")),
        sa.UniqueConstraint(
            "campaign_id",
            "run",
            "member_id",
            name=op.f("uq_campaign_recipients_campaign_id_run_member_id"),
        ),
    )
    with op.batch_alter_table("campaign_recipients", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_recipients_todo", ["campaign_id", "run", "status", "id"])
        batch_op.create_index("ix_campaign_recipients_member", ["member_id"])


def upgrade() -> None:
    _campaigns()
    _recipients()


def downgrade() -> None:
    op.drop_table("campaign_recipients")
    op.drop_table("campaigns")
