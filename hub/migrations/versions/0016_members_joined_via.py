"""members record how they joined (store, pos, import, widget, api); tier stays by day

Revision ID: 0016_members_joined_via
Revises: 0014_members_merged_into_index
Create Date: 2026-12-07 12:45:00.000000

Existing members are given what is known of them: the ``source`` of their
``member.created`` event (``connection`` is a store, ``pos:<location>`` a
counter, ``import`` an import); a member without that event who is linked to
a counter's customer record joined at the counter, one linked to a store's
customer through the store; anyone else stays ``api``. The
reports' new-member rollups are then counted by it, so every day that has
them is marked stale and recomputed at the next read.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_members_joined_via"
down_revision = "0015_referrals_due_index"
branch_labels = None
depends_on = None

_VIA = (
    "CASE WHEN src = 'connection' THEN 'store' WHEN src LIKE 'pos%' THEN 'pos'"
    " WHEN src IN ('import', 'widget') THEN src ELSE 'api' END"
)


def _created_events(dialect: str) -> str:
    """``(id, src)`` of each member's creation event, on either database."""
    if dialect == "postgresql":
        member, source = "(e.data->>'member_id')::bigint", "e.data->>'source'"
    else:
        member, source = "json_extract(e.data, '$.member_id')", "json_extract(e.data, '$.source')"
    return (
        f"SELECT {member} AS id, min({source}) AS src FROM events e"
        f" WHERE e.type = 'member.created' GROUP BY {member}"
    )


def upgrade() -> None:
    # Both databases add a column in place; on SQLite a batch copy of ``members`` would
    # cascade-delete the rows that reference it (identities, consents).
    op.add_column(
        "members",
        sa.Column("joined_via", sa.String(length=16), server_default="api", nullable=False),
    )
    dialect = op.get_bind().dialect.name
    created = _created_events(dialect)
    op.execute(
        f"UPDATE members SET joined_via = s.via FROM (SELECT id, {_VIA} AS via FROM ({created}) c)"
        " AS s WHERE members.id = s.id AND s.via <> 'api'"
    )
    for via, test in (("pos", "= 'pos'"), ("store", "<> 'pos'")):
        op.execute(
            f"UPDATE members SET joined_via = '{via}' WHERE joined_via = 'api'"
            " AND id IN (SELECT i.member_id FROM member_identities i"
            f" JOIN connections k ON k.id = i.connection_id WHERE k.connector {test})"
            f" AND id NOT IN (SELECT c.id FROM ({created}) c WHERE c.id IS NOT NULL)"
        )
    op.create_index(
        "ix_member_tiers_merchant_started", "member_tiers", ["merchant_id", "started_at"]
    )
    op.create_index("ix_member_tiers_merchant_ended", "member_tiers", ["merchant_id", "ended_at"])
    op.execute(
        "INSERT INTO report_stale_days (merchant_id, day)"
        " SELECT DISTINCT merchant_id, day FROM report_days WHERE metric = 'members'"
        " ON CONFLICT DO NOTHING"
    )
    _mark_tier_days(dialect)


def _mark_tier_days(dialect: str) -> None:
    """Mark stale each local day a tier stay began or ended, in its merchant's timezone."""
    # SQLite has no timezones: there the day is marked in UTC and on either side of it,
    # which covers every zone; a day marked needlessly is only recomputed to the same rows.
    day = "timezone(m.timezone, t.at)::date" if dialect == "postgresql" else None
    for column in ("started_at", "ended_at"):
        stays = (
            f"SELECT s.merchant_id, s.{column} AS at FROM member_tiers s"
            f" WHERE s.{column} IS NOT NULL"
        )
        if day is not None:
            op.execute(
                "INSERT INTO report_stale_days (merchant_id, day)"
                f" SELECT DISTINCT t.merchant_id, {day} FROM ({stays}) t"
                " JOIN merchants m ON m.id = t.merchant_id WHERE true ON CONFLICT DO NOTHING"
            )
            continue
        for shift in ("-1 day", "+0 days", "+1 day"):
            op.execute(
                "INSERT INTO report_stale_days (merchant_id, day)"
                f" SELECT DISTINCT t.merchant_id, date(t.at, '{shift}') FROM ({stays}) t"
                " WHERE true ON CONFLICT DO NOTHING"
            )


def downgrade() -> None:
    op.drop_index("ix_member_tiers_merchant_ended", table_name="member_tiers")
    op.drop_index("ix_member_tiers_merchant_started", table_name="member_tiers")
    # In place on both (SQLite 3.35+), for the reason given above.
    op.execute("ALTER TABLE members DROP COLUMN joined_via")
