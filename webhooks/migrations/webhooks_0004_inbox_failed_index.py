"""webhook inbox: a partial index of failed rows for the merchant's Connections page

The page counts each connection's failed deliveries and shows the latest
reason; a replay picks them up. Only failed rows are in the index, so a
normal delivery does not pay for it.

Revision ID: webhooks_0004
Revises: webhooks_0003
Create Date: 2026-12-07 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "webhooks_0004"
down_revision = "webhooks_0003"
branch_labels = None
depends_on = None

_FAILED = sa.text("status = 'failed'")


def upgrade() -> None:
    op.create_index(
        "ix_webhook_inbox_failed",
        "webhook_inbox",
        ["connection_id", "id"],
        postgresql_where=_FAILED,
        sqlite_where=_FAILED,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_inbox_failed", table_name="webhook_inbox")
