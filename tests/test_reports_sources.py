"""New members by how they joined: each way of joining is recorded, counted in the
participation report, and given to existing members when the database is upgraded."""

from __future__ import annotations

import csv
from datetime import timedelta
from decimal import Decimal

from alembic import command
from points_fixtures import order as make_order
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from connectors.pos.testing import open_counter
from hub.db import utcnow
from hub.members.directory import add_identity
from hub.migrate import alembic_config
from hub.migrate import upgrade
from hub.models import Connection
from hub.models import EventRecord
from hub.models import Member
from hub.models import MemberTier
from hub.models import ReportDay
from hub.models import ReportStaleDay
from hub.orders.batches import record_order
from hub.reports.catalogue import run_report
from hub.tiers.ladder import create_tier

STORE, COUNTER, IMPORTED, BY_HAND = "0914000001", "0914000002", "0914000003", "0914000004"
E164 = {phone: "+84" + phone[1:] for phone in (STORE, COUNTER, IMPORTED, BY_HAND)}


def join_every_way(client, hub, merchant, runner, tmp_path) -> None:
    """One member through each way the hub has: a store's order, the counter, an import and
    the API."""
    with hub.db.transaction() as session:
        record_order(hub, session, merchant.id, make_order("S1", 120_000, phone=STORE,
                     placed_at=utcnow()), source="shop")  # fmt: skip
    till = open_counter(client, merchant.headers, location="Quầy Lê Lợi")
    assert till.post("/pos/v1/members", json={"phone": COUNTER}).status_code == 201
    path = tmp_path / "members.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["phone", "name"], [IMPORTED, "Lê Thị Hoa"]])
    result = runner.invoke(args=["import", "members", str(path), "--merchant", str(merchant.id)])
    assert result.exit_code == 0, result.output
    answer = client.post("/api/v1/members", json={"phone": BY_HAND, "name": "Phạm Văn An"},
                         headers=merchant.headers)  # fmt: skip
    assert answer.status_code == 201, answer.json
    assert answer.json["joined_via"] == "api"


def joined(hub, merchant_id: int) -> dict[str, str]:
    with hub.db.session() as session:
        rows = session.execute(
            select(Member.phone, Member.joined_via).where(Member.merchant_id == merchant_id)
        )
        return dict(rows.all())


def test_each_way_of_joining_is_recorded_and_counted_as_new_members(
    client, hub, merchant, runner, tmp_path
):
    join_every_way(client, hub, merchant, runner, tmp_path)

    assert joined(hub, merchant.id) == {
        E164[STORE]: "store", E164[COUNTER]: "pos", E164[IMPORTED]: "import",
        E164[BY_HAND]: "api",
    }  # fmt: skip
    totals = run_report(hub, merchant.id, "participation")["totals"]
    assert totals["new_members"] == 4
    assert totals["new_members_by_source"] == {
        "store": 1, "pos": 1, "import": 1, "widget": 0, "api": 1
    }  # fmt: skip


def test_upgrading_gives_existing_members_how_they_joined(client, hub, merchant, runner, tmp_path):
    # Given members who joined every way, the store's member in a tier, linked to the store's
    # customer and without its creation event
    with hub.db.transaction() as session:
        create_tier(session, merchant.id, {"name": "Vàng", "threshold": Decimal(100_000)},
                    actor="test")  # fmt: skip
    join_every_way(client, hub, merchant, runner, tmp_path)
    with hub.db.transaction() as session:
        store = Connection(merchant_id=merchant.id, connector="haravan", name="Haravan",
                           settings={}, secrets_encrypted=hub.secrets.encrypt({}))  # fmt: skip
        session.add(store)
        session.flush()
        member = session.scalar(select(Member).where(Member.phone == E164[STORE]))
        add_identity(session, member, store.id, "khach-1")
        store_member = member.id
        session.execute(
            delete(EventRecord).where(
                EventRecord.type == "member.created",
                EventRecord.merchant_id == merchant.id,
                EventRecord.data["member_id"].as_integer() == store_member,
            )
        )
    run_report(hub, merchant.id, "participation")  # the rollups are up to date
    # When the database is upgraded from before members recorded it
    command.downgrade(alembic_config(hub), "0015_referrals_due_index")
    with hub.db.transaction() as session:
        # The stay began days before anyone joined, and the rollups are as they were: without
        # tier stays in them.
        session.execute(update(MemberTier).values(started_at=utcnow() - timedelta(days=3)))
        session.execute(delete(ReportDay).where(ReportDay.metric.like("tier%")))
    upgrade(hub)
    # Then each has what is known of them, and the days with new members are recomputed
    assert joined(hub, merchant.id) == {
        E164[STORE]: "store", E164[COUNTER]: "pos", E164[IMPORTED]: "import",
        E164[BY_HAND]: "api",
    }  # fmt: skip
    with hub.db.session() as session:
        assert session.scalars(
            select(ReportStaleDay.day).where(ReportStaleDay.merchant_id == merchant.id)
        ).all()
    totals = run_report(hub, merchant.id, "participation")["totals"]
    assert totals["new_members_by_source"]["store"] == 1
    tiers = run_report(hub, merchant.id, "tiers")["totals"]
    assert (tiers["members_by_tier"], tiers["upgrades"]) == ({"Vàng": 1}, 1)
