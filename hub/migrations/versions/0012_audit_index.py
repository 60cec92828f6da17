"""console audit log: the merchant's records by id, for pages newest first

The audit log page and ``GET /api/v1/audit`` read a merchant's records in
descending id order, a page at a time. The index on ``(merchant_id, id)``
answers that without sorting the merchant's whole history, and makes the
index on ``merchant_id`` alone redundant.

Revision ID: 0012_audit_index
Revises: 0011_reports
Create Date: 2026-12-07 04:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0012_audit_index"
down_revision = "0011_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_merchant_id_id", "audit_log", ["merchant_id", "id"])
    op.drop_index("ix_audit_log_merchant_id", table_name="audit_log")


def downgrade() -> None:
    op.create_index("ix_audit_log_merchant_id", "audit_log", ["merchant_id"])
    op.drop_index("ix_audit_log_merchant_id_id", table_name="audit_log")
