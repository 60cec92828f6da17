"""console: staff users, their links and sessions, sign-in failures; members.search_name

Revision ID: 0007_console_staff
Revises: 0006_job_table
Create Date: 2026-12-07 01:04:12.313726
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

import hub.db

revision = "0007_console_staff"
down_revision = "0006_job_table"
branch_labels = None
depends_on = None


# The folding as it was when this revision was written (a migration never follows later code).
_SEPARATE = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "ø": "o", "ł": "l", "ß": "ss"})


def fold(text: str | None) -> str:
    """Lower-case ``text`` and drop its accents and tone marks."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SEPARATE))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_failures_account_at", ["account", "at"], unique=False)
        batch_op.create_index("ix_sign_in_failures_address_at", ["address", "at"], unique=False)

    op.create_table(
        "staff_users",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_staff_users_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_users_merchant_id"), ["merchant_id"], unique=False
        )

    op.create_table(
        "staff_links",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_links_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_links_token_hash")),
    )
    with op.batch_alter_table("staff_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_links_user_id"), ["user_id"], unique=False)

    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", hub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sessions_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_name", sa.String(length=200), nullable=False, server_default="")
        )
    _fold_names()
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.alter_column("search_name", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("search_name")

    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_user_id"))

    op.drop_table("staff_sessions")
    with op.batch_alter_table("staff_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_links_user_id"))

    op.drop_table("staff_links")
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_users_merchant_id"))

    op.drop_table("staff_users")
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_failures_address_at")
        batch_op.drop_index("ix_sign_in_failures_account_at")

    op.drop_table("sign_in_failures")


def _fold_names(batch: int = 5000) -> None:
    """Fill ``search_name`` for the members that exist, a batch of ids at a time."""
    members = sa.table(
        "members", sa.column("id", sa.BigInteger), sa.column("name"), sa.column("search_name")
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(members.c.id, members.c.name)
            .where(members.c.id > last)
            .order_by(members.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        connection.execute(
            members.update().where(members.c.id == sa.bindparam("member_id")),
            [{"member_id": i, "search_name": fold(name)} for i, name in rows],
        )
        last = rows[-1][0]
