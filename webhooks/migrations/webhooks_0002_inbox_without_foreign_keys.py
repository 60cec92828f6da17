"""webhook inbox without foreign keys

Every inbox insert locked the store's connection and merchant rows through its
two foreign keys, and concurrent deliveries shared those locks in MultiXacts;
see ``webhooks.models.InboxEntry`` for why the keys are not needed.

Revision ID: webhooks_0002
Revises: webhooks_0001
Create Date: 2026-11-24 10:45:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "webhooks_0002"
down_revision = "webhooks_0001"
branch_labels = None
depends_on = None

_KEYS = (
    ("fk_webhook_inbox_connection_id_connections", "connection_id", "connections"),
    ("fk_webhook_inbox_merchant_id_merchants", "merchant_id", "merchants"),
)


def upgrade() -> None:
    with op.batch_alter_table("webhook_inbox") as batch_op:
        for name, _, _ in _KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("webhook_inbox") as batch_op:
        for name, column, table in _KEYS:
            batch_op.create_foreign_key(name, table, [column], ["id"], ondelete="CASCADE")
