"""Tiers: the ladder API, upgrades at once, near-tier notices, status and history."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import update

from hub import hookimpl
from hub.db import utcnow
from hub.models import Member
from hub.models import MemberTier
from hub.models import PointEntry
from hub.points import ledger
from hub.tiers import reevaluate_tier


def add_tier(api, name, threshold, **fields):
    response = api.post("/api/v1/tiers", json={"name": name, "threshold": threshold, **fields})
    assert response.status_code == 201, response.json
    return response.json


def earn(hub, member_id, points, *, at=None, kind="earn"):
    """Credit earned points (optionally dated ``at``) and re-evaluate, as an order would."""
    with hub.db.transaction() as session:
        member = session.get(Member, member_id)
        posted = ledger.credit(session, member, points, kind=kind, key=f"test:{uuid.uuid4()}")
        if at is not None:
            session.execute(
                update(PointEntry).where(PointEntry.id == posted.entry.id).values(created_at=at)
            )
        reevaluate_tier(hub, session, member)


def periods(hub, member_id):
    with hub.db.session() as session:
        return list(
            session.scalars(
                select(MemberTier).where(MemberTier.member_id == member_id).order_by(MemberTier.id)
            )
        )


@pytest.fixture
def ladder(api):
    """Đồng, Bạc, Vàng on lifetime points earned."""
    return [
        add_tier(api, "Đồng", 100, basis="points"),
        add_tier(api, "Bạc", 1000, basis="points", earn_multiplier="1.5"),
        add_tier(api, "Vàng", 5000, basis="points", earn_multiplier=2),
    ]


# -- the ladder ---------------------------------------------------------------


def test_a_merchant_has_no_tiers_until_it_creates_them(api):
    assert api.get("/api/v1/tiers").json == {"data": []}


def test_new_tiers_go_on_top_of_the_ladder_with_sensible_defaults(api):
    first = add_tier(api, "Đồng", 0)
    second = add_tier(api, "Bạc", "2000000", benefits="Freeship")

    assert (first["position"], second["position"]) == (0, 1)
    assert second["basis"] == "spend" and second["window"] == "lifetime"
    assert second["earn_multiplier"] == "1" and second["threshold"] == "2000000"
    listed = api.get("/api/v1/tiers").json["data"]
    assert [t["name"] for t in listed] == ["Đồng", "Bạc"]


def test_a_higher_tier_must_ask_for_more_on_the_same_basis_and_window(api):
    add_tier(api, "Bạc", 1000, basis="points")

    response = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 500, "basis": "points"})

    assert response.status_code == 422
    assert response.json["error"]["code"] == "tiers_out_of_order"


def test_tiers_on_different_bases_do_not_constrain_each_other(api):
    add_tier(api, "Bạc", 1000, basis="points")
    add_tier(api, "Vàng", 500, basis="spend")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "X", "threshold": 1, "basis": "visits"}, "basis"),
        ({"name": "X", "threshold": 1, "window": "weekly"}, "window"),
        ({"name": "X", "threshold": -1}, "threshold"),
        ({"name": "X", "threshold": "1e30"}, "threshold"),
        ({"name": "X", "threshold": 1, "earn_multiplier": "0.5"}, "earn_multiplier"),
        ({"name": "X"}, "threshold"),
        ({"name": "", "threshold": 1}, "name"),
        ({"name": "X", "threshold": 1, "colour": "gold"}, "colour"),
    ],
)
def test_bad_tier_fields_are_refused_with_the_field_named(api, body, field):
    response = api.post("/api/v1/tiers", json=body)

    assert response.status_code == 422
    assert field in response.json["error"]["details"]


def test_a_points_threshold_is_a_whole_number(api):
    response = api.post("/api/v1/tiers", json={"name": "X", "threshold": "10.5", "basis": "points"})

    assert response.status_code == 422
    assert "threshold" in response.json["error"]["details"]


def test_tier_names_and_positions_are_unique_per_merchant(api, other_api):
    add_tier(api, "Vàng", 100)

    assert api.post("/api/v1/tiers", json={"name": "vàng", "threshold": 200}).status_code == 409
    clash = api.post("/api/v1/tiers", json={"name": "Kim", "threshold": 200, "position": 0})
    assert clash.json["error"]["code"] == "duplicate_tier_position"
    assert other_api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": 1}).status_code == 201


def test_another_merchants_tier_is_not_found(api, other_api):
    tier = add_tier(api, "Vàng", 100)

    assert other_api.get(f"/api/v1/tiers/{tier['id']}").status_code == 404
    assert other_api.patch(f"/api/v1/tiers/{tier['id']}", json={"name": "X"}).status_code == 404
    assert other_api.delete(f"/api/v1/tiers/{tier['id']}").status_code == 404


def test_a_tier_can_be_renamed_and_its_benefits_changed(api):
    tier = add_tier(api, "Vang", 100)

    response = api.patch(
        f"/api/v1/tiers/{tier['id']}", json={"name": "Vàng", "benefits": "Giảm 5%"}
    )

    assert response.status_code == 200
    assert api.get(f"/api/v1/tiers/{tier['id']}").json["name"] == "Vàng"


def test_tier_settings_default_to_one_step_downgrades_and_a_ninety_percent_notice(api):
    assert api.get("/api/v1/tiers/settings").json == {
        "downgrade_policy": "one_step",
        "near_share": "0.9",
    }

    response = api.put(
        "/api/v1/tiers/settings", json={"downgrade_policy": "review", "near_share": "0.8"}
    )

    assert response.status_code == 200
    assert api.get("/api/v1/tiers/settings").json["downgrade_policy"] == "review"
    bad = api.put("/api/v1/tiers/settings", json={"near_share": 1})
    assert bad.status_code == 422


# -- upgrades -----------------------------------------------------------------


def test_a_member_is_upgraded_at_once_when_earned_points_reach_a_threshold(
    api, hub, member, ladder, recorded_events
):
    earn(hub, member["id"], 120)

    status = api.get(f"/api/v1/members/{member['id']}/tier").json
    assert status["tier"]["name"] == "Đồng"
    assert status["reason"] == "qualified"
    changed = [e for e in recorded_events.events if e.type == "tier.changed"]
    assert [(e.data["to_tier"]["name"], e.data["direction"]) for e in changed] == [("Đồng", "up")]
    assert changed[0].data["from_tier"] is None


def test_a_member_skips_straight_to_the_highest_tier_earned(api, hub, member, ladder):
    earn(hub, member["id"], 6000)

    assert api.get(f"/api/v1/members/{member['id']}/tier").json["tier"]["name"] == "Vàng"
    assert len(periods(hub, member["id"])) == 1


def test_reevaluating_again_changes_nothing(hub, member, ladder, recorded_events):
    earn(hub, member["id"], 1200)
    with hub.db.transaction() as session:
        reevaluate_tier(hub, session, session.get(Member, member["id"]))
        reevaluate_tier(hub, session, session.get(Member, member["id"]))

    assert len(periods(hub, member["id"])) == 1
    assert recorded_events.types().count("tier.changed") == 1


def test_spending_points_does_not_lower_a_tier_or_its_progress(api, hub, member, ladder):
    earn(hub, member["id"], 1200)
    with hub.db.transaction() as session:
        ledger.debit(session, session.get(Member, member["id"]), 1000, kind="adjust", key="spend-1")
    earn(hub, member["id"], 1)

    status = api.get(f"/api/v1/members/{member['id']}/tier").json
    assert status["tier"]["name"] == "Bạc"
    assert status["progress"] == "1201"


def test_adjustments_do_not_count_towards_tiers(api, hub, member, ladder):
    earn(hub, member["id"], 5000, kind="adjust")

    assert api.get(f"/api/v1/members/{member['id']}/tier").json["tier"] is None


def test_the_member_resource_shows_the_tier(api, hub, member, ladder):
    assert api.get(f"/api/v1/members/{member['id']}").json["tier"] is None

    earn(hub, member["id"], 1500)

    tier = api.get(f"/api/v1/members/{member['id']}").json["tier"]
    assert tier == {"id": ladder[1]["id"], "name": "Bạc"}


def test_status_tells_the_next_tier_and_what_is_left_to_reach_it(api, hub, member, ladder):
    earn(hub, member["id"], 1200)

    status = api.get(f"/api/v1/members/{member['id']}/tier").json

    assert status["next_tier"]["name"] == "Vàng"
    assert (status["progress"], status["delta_to_next"]) == ("1200", "3800")
    assert status["retain_by"] is None  # a lifetime tier has no window to close
    assert status["delta_to_retain"] == "0"


def test_at_the_top_there_is_no_next_tier(api, hub, member, ladder):
    earn(hub, member["id"], 9000)

    status = api.get(f"/api/v1/members/{member['id']}/tier").json

    assert status["next_tier"] is None and status["delta_to_next"] is None


def test_a_member_of_another_merchant_has_no_tier_here(other_api, member):
    assert other_api.get(f"/api/v1/members/{member['id']}/tier").status_code == 404


# -- near the next tier -------------------------------------------------------


def test_tier_near_fires_once_when_a_member_comes_within_the_share(
    hub, member, ladder, recorded_events
):
    earn(hub, member["id"], 850)  # Đồng; 85% of Bạc: not yet near
    assert "tier.near" not in recorded_events.types()

    earn(hub, member["id"], 60)  # 910: within 90% of Bạc's 1000
    earn(hub, member["id"], 10)  # still near: no second notice

    near = [e for e in recorded_events.events if e.type == "tier.near"]
    assert len(near) == 1
    assert near[0].data["tier"]["name"] == "Bạc"
    assert (near[0].data["progress"], near[0].data["delta"]) == ("910", "90")


def test_the_near_share_is_the_merchants_setting(api, hub, member, ladder, recorded_events):
    api.patch("/api/v1/tiers/settings", json={"near_share": "0.5"})

    earn(hub, member["id"], 600)

    assert recorded_events.types().count("tier.near") == 1


def test_tier_near_is_sent_once_per_calendar_year(api, hub, member, recorded_events):
    add_tier(api, "Vàng", 1000, basis="points", window="calendar_year")
    last_year = utcnow() - timedelta(days=400)
    earn(hub, member["id"], 950, at=last_year)
    # Last year's points count for nothing this year: not near.
    assert "tier.near" not in recorded_events.types()

    earn(hub, member["id"], 950)
    earn(hub, member["id"], 10)

    assert recorded_events.types().count("tier.near") == 1


# -- overrides and history ----------------------------------------------------


def test_an_override_holds_the_tier_whatever_the_member_earns(api, hub, member, ladder):
    until = (utcnow() + timedelta(days=30)).isoformat()
    response = api.put(
        f"/api/v1/members/{member['id']}/tier/override",
        json={"tier_id": ladder[1]["id"], "until": until, "note": "VIP guest"},
    )
    assert response.status_code == 200
    assert response.json["tier"]["name"] == "Bạc" and response.json["is_override"]

    earn(hub, member["id"], 9000)

    status = api.get(f"/api/v1/members/{member['id']}/tier").json
    assert status["tier"]["name"] == "Bạc"
    assert status["override_until"] is not None


def test_lifting_an_override_puts_the_member_in_the_tier_they_earned(api, hub, member, ladder):
    earn(hub, member["id"], 1500)
    api.put(f"/api/v1/members/{member['id']}/tier/override", json={"tier_id": ladder[2]["id"]})

    response = api.delete(f"/api/v1/members/{member['id']}/tier/override")

    assert response.status_code == 200
    assert response.json["tier"]["name"] == "Bạc"
    assert response.json["reason"] == "override_ended"


def test_an_override_that_ended_in_the_past_is_refused(api, member, ladder):
    response = api.put(
        f"/api/v1/members/{member['id']}/tier/override",
        json={"tier_id": ladder[0]["id"], "until": "2020-01-01T00:00:00+00:00"},
    )

    assert response.status_code == 422
    assert "until" in response.json["error"]["details"]


def test_an_override_to_another_merchants_tier_is_not_found(api, other_api, member):
    foreign = add_tier(other_api, "Vàng", 1)

    response = api.put(
        f"/api/v1/members/{member['id']}/tier/override", json={"tier_id": foreign["id"]}
    )

    assert response.status_code == 404


def test_history_lists_every_period_with_its_reason_newest_first(api, hub, member, ladder):
    earn(hub, member["id"], 150)
    earn(hub, member["id"], 1000)
    api.put(f"/api/v1/members/{member['id']}/tier/override", json={"tier_id": ladder[2]["id"]})

    history = api.get(f"/api/v1/members/{member['id']}/tier/history").json["data"]

    assert [(p["tier_name"], p["reason"]) for p in history] == [
        ("Vàng", "override"),
        ("Bạc", "qualified"),
        ("Đồng", "qualified"),
    ]
    assert history[0]["ended_at"] is None and history[1]["ended_at"] is not None


# -- changing and deleting tiers ----------------------------------------------


def test_lowering_a_threshold_upgrades_members_who_now_qualify(api, hub, member, ladder):
    earn(hub, member["id"], 800)

    api.patch(f"/api/v1/tiers/{ladder[1]['id']}", json={"threshold": 700})

    assert api.get(f"/api/v1/members/{member['id']}/tier").json["tier"]["name"] == "Bạc"


def test_deleting_a_tier_moves_its_members_to_what_they_still_qualify_for(
    api, hub, member, ladder, recorded_events
):
    earn(hub, member["id"], 1500)

    assert api.delete(f"/api/v1/tiers/{ladder[1]['id']}").status_code == 204

    status = api.get(f"/api/v1/members/{member['id']}/tier").json
    assert status["tier"]["name"] == "Đồng" and status["reason"] == "tier_deleted"
    history = api.get(f"/api/v1/members/{member['id']}/tier/history").json["data"]
    assert history[1]["tier_name"] == "Bạc"  # the old period keeps the name
    assert [t["name"] for t in api.get("/api/v1/tiers").json["data"]] == ["Đồng", "Vàng"]


# -- the hook -----------------------------------------------------------------


class StaffAreGold:
    """Staff stand in the top tier whatever their numbers say."""

    __name__ = "staff-are-gold"

    @hookimpl(tryfirst=True)
    def tier_for_member(self, member, stats):
        if "staff" in (member.tags or []):
            return stats.tiers[-1]
        return None


def test_hook_tier_for_member_plugin_decides_the_tier(api, hub, member, ladder):
    hub.pm.register(StaffAreGold(), name="staff-are-gold")
    api.patch(f"/api/v1/members/{member['id']}", json={"tags": ["staff"]})

    earn(hub, member["id"], 1)

    assert api.get(f"/api/v1/members/{member['id']}/tier").json["tier"]["name"] == "Vàng"


def test_hook_tier_for_member_built_in_answers_none_below_every_threshold(api, hub, member, ladder):
    earn(hub, member["id"], 99)

    assert api.get(f"/api/v1/members/{member['id']}/tier").json["tier"] is None


class AnswersAForeignTier:
    __name__ = "foreign-tier"

    @hookimpl(tryfirst=True)
    def tier_for_member(self):
        return 987654


def test_hook_tier_for_member_answer_outside_the_ladder_is_ignored(api, hub, member, ladder):
    hub.pm.register(AnswersAForeignTier(), name="foreign-tier")

    earn(hub, member["id"], 6000)

    assert api.get(f"/api/v1/members/{member['id']}/tier").json["tier"] is None
