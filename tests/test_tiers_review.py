"""Tier reviews: moving down only when a window closes, as the merchant's policy says."""

from __future__ import annotations

import uuid
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import update

from hub.db import utcnow
from hub.models import Member
from hub.models import MemberTier
from hub.models import PointEntry
from hub.points import ledger
from hub.tiers import reevaluate_tier
from hub.tiers import review_due
from hub.tiers.windows import add_months


def add_tier(api, name, threshold, **fields):
    response = api.post("/api/v1/tiers", json={"name": name, "threshold": threshold, **fields})
    assert response.status_code == 201, response.json
    return response.json


def earn(hub, member_id, points, *, at=None, kind="earn", reevaluate=True):
    with hub.db.transaction() as session:
        member = session.get(Member, member_id)
        posted = ledger.credit(session, member, points, kind=kind, key=f"test:{uuid.uuid4()}")
        if at is not None:
            session.execute(
                update(PointEntry).where(PointEntry.id == posted.entry.id).values(created_at=at)
            )
        if reevaluate:
            reevaluate_tier(hub, session, member)


def take_back(hub, member_id, points):
    """A refund taking earned points back (as the order lifecycle does)."""
    with hub.db.transaction() as session:
        member = session.get(Member, member_id)
        ledger.debit(
            session, member, points, kind="reverse", key=f"test:{uuid.uuid4()}", allow_debt=True
        )
        reevaluate_tier(hub, session, member)


def review(app, moment: datetime) -> int:
    with app.app_context():
        return review_due(moment.isoformat())


def tier_name(api, member_id):
    tier = api.get(f"/api/v1/members/{member_id}/tier").json["tier"]
    return tier["name"] if tier else None


def current(hub, member_id) -> MemberTier:
    with hub.db.session() as session:
        return session.scalars(
            select(MemberTier).where(
                MemberTier.member_id == member_id, MemberTier.ended_at.is_(None)
            )
        ).one()


@pytest.fixture
def yearly(api):
    """Bạc, Vàng, Kim Cương earned on points within a calendar year."""
    return [
        add_tier(api, "Bạc", 100, basis="points", window="calendar_year"),
        add_tier(api, "Vàng", 1000, basis="points", window="calendar_year"),
        add_tier(api, "Kim Cương", 5000, basis="points", window="calendar_year"),
    ]


def set_policy(api, policy):
    response = api.patch("/api/v1/tiers/settings", json={"downgrade_policy": policy})
    assert response.status_code == 200


# -- calendar year --------------------------------------------------------------


def test_a_calendar_year_tier_is_reviewed_when_the_merchants_year_ends(api, hub, member, yearly):
    earn(hub, member["id"], 1200)

    status = api.get(f"/api/v1/members/{member['id']}/tier").json

    retain_by = datetime.fromisoformat(status["retain_by"])
    # Midnight of 1 January in Asia/Ho_Chi_Minh is 17:00 UTC on 31 December.
    assert (retain_by.month, retain_by.day, retain_by.hour) == (12, 31, 17)
    assert status["delta_to_retain"] == "0"  # this year's points already keep it


def test_nothing_moves_before_the_review_date(app, api, hub, member, yearly):
    set_policy(api, "review")
    earn(hub, member["id"], 1200)
    review_at = current(hub, member["id"]).review_at

    assert review(app, review_at - timedelta(seconds=1)) == 0
    assert tier_name(api, member["id"]) == "Vàng"


def test_earning_the_tier_again_in_the_closed_window_keeps_it_a_year_more(
    app, api, hub, member, yearly
):
    set_policy(api, "review")
    earn(hub, member["id"], 1200)
    first = current(hub, member["id"]).review_at

    assert review(app, first + timedelta(days=1)) == 1

    kept = current(hub, member["id"])
    assert tier_name(api, member["id"]) == "Vàng"
    assert kept.review_at > first + timedelta(days=360)  # the end of next year


def test_policy_review_drops_to_the_tier_earned_in_the_closed_window(
    app, api, hub, member, yearly, recorded_events
):
    set_policy(api, "review")
    earn(hub, member["id"], 6000)  # Kim Cương this year
    first = current(hub, member["id"]).review_at
    # Next year brings only 150 points: Bạc.
    earn(hub, member["id"], 150, at=first + timedelta(days=30), reevaluate=False)

    ran = review(app, first + timedelta(days=400))

    assert ran == 2  # this year's review kept it; next year's moved it down
    assert tier_name(api, member["id"]) == "Bạc"
    down = [e.data for e in recorded_events.events if e.type == "tier.changed"][-1]
    assert (down["to_tier"]["name"], down["direction"], down["reason"]) == ("Bạc", "down", "review")


def test_policy_one_step_moves_down_one_tier_per_review(app, api, hub, member, yearly):
    set_policy(api, "one_step")
    earn(hub, member["id"], 6000)
    first = current(hub, member["id"]).review_at

    review(app, first + timedelta(days=400))  # kept, then one step: Vàng
    assert tier_name(api, member["id"]) == "Vàng"

    review(app, first + timedelta(days=400 + 365))
    assert tier_name(api, member["id"]) == "Bạc"

    review(app, first + timedelta(days=400 + 730))
    assert tier_name(api, member["id"]) is None
    reasons = [
        p["reason"] for p in api.get(f"/api/v1/members/{member['id']}/tier/history").json["data"]
    ]
    assert reasons == ["review", "review", "review", "qualified"]


def test_policy_never_keeps_every_tier(app, api, hub, member, yearly):
    set_policy(api, "never")
    earn(hub, member["id"], 6000)

    assert current(hub, member["id"]).review_at is None
    assert review(app, utcnow() + timedelta(days=2000)) == 0
    assert tier_name(api, member["id"]) == "Kim Cương"
    status = api.get(f"/api/v1/members/{member['id']}/tier").json
    assert status["retain_by"] is None and status["delta_to_retain"] is None


def test_a_late_or_repeated_review_decides_as_an_on_time_one(app, api, hub, member, yearly):
    set_policy(api, "review")
    earn(hub, member["id"], 1200)
    first = current(hub, member["id"]).review_at
    second = add_months(first, 12)
    # Points written after the second review date do not save the tier at it.
    earn(hub, member["id"], 2000, at=second + timedelta(days=3), reevaluate=False)

    review(app, second + timedelta(days=10))
    review(app, second + timedelta(days=10))

    assert tier_name(api, member["id"]) is None
    history = api.get(f"/api/v1/members/{member['id']}/tier/history").json["data"]
    assert len(history) == 2


def test_switching_the_policy_on_schedules_reviews_for_members_already_in_tiers(
    api, hub, member, yearly
):
    set_policy(api, "never")
    earn(hub, member["id"], 1200)
    assert current(hub, member["id"]).review_at is None

    set_policy(api, "review")

    assert current(hub, member["id"]).review_at is not None


def test_delta_to_retain_counts_what_is_earned_in_the_running_window(app, api, hub, member, yearly):
    set_policy(api, "review")
    earn(hub, member["id"], 1200)
    first = current(hub, member["id"]).review_at
    review(app, first + timedelta(days=1))  # kept: next review at the end of next year

    earn(hub, member["id"], 300, at=first + timedelta(days=2), reevaluate=False)
    with hub.db.session() as session:
        from hub.tiers import tier_status

        status = tier_status(
            session, session.get(Member, member["id"]), now=first + timedelta(days=5)
        )

    assert status["retain_progress"] == 300
    assert status["delta_to_retain"] == 700


# -- rolling and lifetime windows -----------------------------------------------


def test_a_rolling_tier_is_kept_by_earning_it_again_in_the_twelve_months_after(
    app, api, hub, member
):
    set_policy(api, "review")
    add_tier(api, "Vàng", 1000, basis="points", window="rolling_12m")
    earn(hub, member["id"], 1200)
    period = current(hub, member["id"])
    assert period.review_at == add_months(period.started_at, 12)
    status = api.get(f"/api/v1/members/{member['id']}/tier").json
    assert status["delta_to_retain"] == "1000"  # the points that earned it are spent on that
    earn(hub, member["id"], 1000, at=add_months(period.started_at, 6), reevaluate=False)

    review(app, period.review_at + timedelta(hours=1))
    assert tier_name(api, member["id"]) == "Vàng"

    review(app, add_months(period.review_at, 12) + timedelta(hours=1))
    assert tier_name(api, member["id"]) is None


def test_a_refund_below_a_lifetime_threshold_moves_the_member_down_at_the_next_review(
    app, api, hub, member
):
    set_policy(api, "review")
    add_tier(api, "Bạc", 100, basis="points")
    add_tier(api, "Vàng", 1000, basis="points")
    earn(hub, member["id"], 1200)
    assert current(hub, member["id"]).review_at is None

    take_back(hub, member["id"], 500)

    assert tier_name(api, member["id"]) == "Vàng"  # no move down outside a review
    review(app, utcnow() + timedelta(seconds=5))
    assert tier_name(api, member["id"]) == "Bạc"


def test_the_daily_job_places_members_who_never_ordered_in_the_entry_tier(app, api, hub):
    add_tier(api, "Thành viên", 0)
    add_tier(api, "Vàng", 1000, basis="points")
    newcomer = api.post("/api/v1/members", json={"phone": "0987654321"}).json
    assert tier_name(api, newcomer["id"]) is None

    review(app, utcnow())

    assert tier_name(api, newcomer["id"]) == "Thành viên"


# -- overrides --------------------------------------------------------------------


def test_an_override_ends_on_its_date_and_the_member_takes_the_tier_they_earned(
    app, api, hub, member, yearly
):
    earn(hub, member["id"], 150)
    until = utcnow() + timedelta(days=10)
    api.put(
        f"/api/v1/members/{member['id']}/tier/override",
        json={"tier_id": yearly[2]["id"], "until": until.isoformat()},
    )
    assert review(app, until - timedelta(days=1)) == 0
    assert tier_name(api, member["id"]) == "Kim Cương"

    assert review(app, until + timedelta(minutes=1)) == 1

    status = api.get(f"/api/v1/members/{member['id']}/tier").json
    assert (status["tier"]["name"], status["reason"]) == ("Bạc", "override_ended")


def test_an_override_without_an_end_date_holds_until_lifted(app, api, hub, member, yearly):
    api.put(f"/api/v1/members/{member['id']}/tier/override", json={"tier_id": yearly[1]["id"]})

    assert review(app, utcnow() + timedelta(days=3000)) == 0
    assert tier_name(api, member["id"]) == "Vàng"


# -- merges -----------------------------------------------------------------------


def test_a_merge_keeps_the_higher_of_the_two_tiers(api, hub, yearly):
    lan = api.post("/api/v1/members", json={"phone": "0912345678", "name": "Lan"}).json
    lan2 = api.post("/api/v1/members", json={"email": "lan@example.vn", "name": "Lan"}).json
    earn(hub, lan["id"], 150)
    earn(hub, lan2["id"], 1100)

    response = api.post(f"/api/v1/members/{lan['id']}/merge", json={"from_member_id": lan2["id"]})

    assert response.status_code == 200, response.json
    assert response.json["tier"]["name"] == "Vàng"
    with hub.db.session() as session:
        open_periods = session.scalars(
            select(MemberTier).where(
                MemberTier.member_id == lan["id"], MemberTier.ended_at.is_(None)
            )
        ).all()
    assert len(open_periods) == 1
