"""webhook inbox: an index for drains instead of one no query used

A drain reads a connection's waiting rows in id order. The indexes it could use
were the unique one on ``(connection_id, delivery_id)``, which holds every row
the connection ever received, and the sweep's index of the waiting rows of
every store: a drain's cost grew with the store's history or with the other
stores' backlog. The index on ``merchant_id`` served no query, and every
delivery paid for it.

Revision ID: webhooks_0003
Revises: webhooks_0002
Create Date: 2026-11-24 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "webhooks_0003"
down_revision = "webhooks_0002"
branch_labels = None
depends_on = None

_WAITING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.drop_index("ix_webhook_inbox_merchant_id", table_name="webhook_inbox")
    op.create_index(
        "ix_webhook_inbox_waiting",
        "webhook_inbox",
        ["connection_id", "id"],
        postgresql_where=_WAITING,
        sqlite_where=_WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_inbox_waiting", table_name="webhook_inbox")
    op.create_index("ix_webhook_inbox_merchant_id", "webhook_inbox", ["merchant_id"])
