"""The daily expiry job and the expiry policies."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from points_fixtures import T0
from points_fixtures import assert_invariants
from points_fixtures import member_id
from points_fixtures import order
from points_fixtures import points
from points_fixtures import record
from points_fixtures import settings
from sqlalchemy import select

from hub.members.directory import create_member
from hub.models import Member
from hub.models import PointEntry
from hub.models import PointLot
from hub.points import expiry
from hub.points import ledger
from hub.worker import periodic_jobs


def credit(hub, mid, points, key, expires_at):
    with hub.db.transaction() as session:
        ledger.credit(
            session, session.get(Member, mid), points, kind="earn", key=key,
            expires_at=expires_at, now=T0,
        )  # fmt: skip


def expire_entries(hub):
    with hub.db.session() as session:
        return session.scalars(select(PointEntry).where(PointEntry.kind == "expire")).all()


def test_the_job_writes_off_each_expired_lot_once(hub, make, recorded_events):
    mid = make.member(phone="0912345678").id
    credit(hub, mid, 100, "a", T0 + timedelta(days=1))
    credit(hub, mid, 40, "b", T0 + timedelta(days=5))
    credit(hub, mid, 10, "c", None)

    first = expiry.expire_due(hub, now=T0 + timedelta(days=2))
    second = expiry.expire_due(hub, now=T0 + timedelta(days=2))

    assert (first, second) == (1, 0)
    (entry,) = expire_entries(hub)
    assert entry.points == -100 and entry.rule == "expiry"
    with hub.db.session() as session:
        lot = session.scalars(select(PointLot).where(PointLot.points == 100)).one()
    assert entry.key == f"expire:{lot.id}"
    assert points(hub, mid, at=T0 + timedelta(days=2)).total == 50
    (event,) = [e for e in recorded_events.events if e.type == "points.expired"]
    assert event.data["points"] == 100 and event.data["member_id"] == mid
    assert_invariants(hub, mid)


def test_partly_spent_lots_expire_only_what_is_left(hub, merchant):
    with hub.db.transaction() as session:
        member = create_member(session, merchant.id, {"phone": "0912345678"})
        ledger.credit(
            session, member, 100, kind="earn", key="a", expires_at=T0 + timedelta(days=1), now=T0
        )
        ledger.debit(session, member, 70, kind="redeem", key="spend", now=T0)

    expiry.expire_due(hub, now=T0 + timedelta(days=1))

    assert [e.points for e in expire_entries(hub)] == [-30]
    assert_invariants(hub, member.id)


def test_the_job_pages_through_many_members(hub, make, monkeypatch):
    monkeypatch.setattr(expiry, "PAGE", 3)
    ids = [make.member(phone=f"091234567{n}").id for n in range(4)]
    for mid in ids:
        for n in range(2):
            credit(hub, mid, 10, f"{mid}-{n}", T0 + timedelta(days=1))

    written = expiry.expire_due(hub, now=T0 + timedelta(days=1))

    assert written == 8
    for mid in ids:
        assert points(hub, mid, at=T0 + timedelta(days=1)).total == 0
        assert_invariants(hub, mid)


def test_one_member_with_more_lots_than_a_page_is_finished(hub, make, monkeypatch):
    monkeypatch.setattr(expiry, "PAGE", 2)
    mid = make.member(phone="0912345678").id
    for n in range(5):
        credit(hub, mid, 10, f"k{n}", T0 + timedelta(days=1))

    assert expiry.expire_due(hub, now=T0 + timedelta(days=1)) == 5


def test_expiry_runs_daily_as_a_periodic_job(hub, app):
    (job,) = [job for job in periodic_jobs(hub) if job.name == "points.expire"]
    assert job.func == "hub.points.expiry.run_expiry"
    assert job.cron == "5 0 * * *"

    with app.app_context():
        assert expiry.run_expiry() == 0


@pytest.mark.parametrize(
    ("policy", "awarded", "expires"),
    [
        ({"policy": "days", "days": 30}, "2026-03-10T03:00:00+00:00", "2026-04-09T03:00:00+00:00"),
        # End of the month of (award + 0 months), local midnight in Ho Chi Minh City (UTC+7).
        (
            {"policy": "end_of_month", "months": 0},
            "2026-03-10T03:00:00+00:00",
            "2026-03-31T17:00:00+00:00",
        ),
        (
            {"policy": "end_of_month", "months": 12},
            "2026-03-31T18:00:00+00:00",  # already 1 April locally
            "2027-04-30T17:00:00+00:00",
        ),
        (
            {"policy": "end_of_year", "months": 6},
            "2026-08-01T00:00:00+00:00",
            "2027-12-31T17:00:00+00:00",
        ),
        (
            {"policy": "end_of_year", "months": 0},
            "2026-08-01T00:00:00+00:00",
            "2026-12-31T17:00:00+00:00",
        ),
    ],
)
def test_expiry_policies_in_the_merchants_timezone(hub, merchant, policy, awarded, expires):
    settings(hub, merchant.id, {"expiry": policy}, now=datetime(2026, 1, 1, tzinfo=UTC))
    awarded_at = datetime.fromisoformat(awarded)

    record(hub, merchant.id, order(placed_at=awarded_at), now=awarded_at)

    with hub.db.session() as session:
        lot = session.scalars(
            select(PointLot).where(PointLot.member_id == member_id(hub, merchant.id))
        ).one()
    assert lot.expires_at == datetime.fromisoformat(expires)
