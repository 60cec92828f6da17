"""Each segment condition picks the members that match and leaves those that just miss.

The clock is fixed at 01:00 on 31 December 2026 in Ho Chi Minh City (still
the 30th in UTC), so local days, year ends and windows are exact.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from marshmallow import Schema
from segment_fixtures import NOW
from segment_fixtures import add_member
from segment_fixtures import add_order
from segment_fixtures import one
from segment_fixtures import picked
from sqlalchemy import true
from sqlalchemy import update

from hub import SegmentCondition
from hub import hookimpl
from hub.models import Connection
from hub.models import Member
from hub.models import Voucher
from hub.points import ledger
from hub.segments import condition_kinds
from hub.testing import make_app

# The 90-day window opens at local midnight of 3 October: 17:00 on 2 October in UTC.
WINDOW_OPENS = "2026-10-03T00:00:00+07:00"
JUST_BEFORE = "2026-10-02T23:59:59+07:00"


def test_tier_picks_members_currently_in_the_tiers_named(hub, api, merchant):
    silver = api.post("/api/v1/tiers", json={"name": "Bạc", "threshold": "1000"}).json
    gold = api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": "5000"}).json
    in_gold, in_silver, in_none = add_member(api), add_member(api), add_member(api)
    api.put(f"/api/v1/members/{in_gold}/tier/override", json={"tier_id": gold["id"]})
    api.put(f"/api/v1/members/{in_silver}/tier/override", json={"tier_id": silver["id"]})

    assert picked(hub, merchant.id, one("tier", tier_ids=[gold["id"]])) == {in_gold}
    both = one("tier", tier_ids=[gold["id"], silver["id"]])
    assert picked(hub, merchant.id, both) == {in_gold, in_silver}
    assert in_none not in picked(hub, merchant.id, both)


def test_points_balance_bounds_are_inclusive(api, hub, merchant):
    low, exact, high = add_member(api), add_member(api), add_member(api)
    for member_id, points in ((low, 499), (exact, 500), (high, 1001)):
        api.post(f"/api/v1/members/{member_id}/adjustments", json={"points": points, "reason": "x"})

    assert picked(hub, merchant.id, one("points_balance", min=500, max=1000)) == {exact}


def test_points_expiring_within_n_local_days(hub, api, merchant):
    soon, later, spent = add_member(api), add_member(api), add_member(api)
    # Within 2 days: until the end of local 2 January 2027, 17:00 on the 2nd in UTC.
    edge = datetime(2027, 1, 2, 17, 0, tzinfo=UTC)
    with hub.db.transaction() as session:
        for member_id, expires in ((soon, edge - timedelta(seconds=1)), (later, edge)):
            member = session.get(Member, member_id)
            ledger.credit(
                session, member, 100, kind="earn", key=f"e{member_id}", expires_at=expires, now=NOW
            )
        member = session.get(Member, spent)
        ledger.credit(session, member, 100, kind="earn", key="s", expires_at=edge, now=NOW)

    assert picked(hub, merchant.id, one("points_expiring", within_days=2)) == {soon}
    assert picked(hub, merchant.id, one("points_expiring", within_days=3)) == {soon, later, spent}
    assert picked(hub, merchant.id, one("points_expiring", within_days=3, min_points=101)) == set()


def test_total_spent_ever_compares_amounts_exactly(hub, api, merchant):
    under, exact = add_member(api), add_member(api)
    add_order(api, under, "999999.9999", "2025-01-01T10:00:00+07:00")
    add_order(api, exact, "1000000", "2025-01-01T10:00:00+07:00")

    assert picked(hub, merchant.id, one("total_spent", min="1000000")) == {exact}
    assert picked(hub, merchant.id, one("total_spent", max="999999.9999")) >= {under}
    assert exact not in picked(hub, merchant.id, one("total_spent", max="999999.9999"))


def test_total_spent_in_the_last_n_days_counts_from_local_midnight(hub, api, merchant):
    inside, outside = add_member(api), add_member(api)
    add_order(api, inside, "600000", WINDOW_OPENS)
    add_order(api, inside, "400000", "2026-12-31T00:30:00+07:00")
    add_order(api, outside, "600000", JUST_BEFORE)
    add_order(api, outside, "400000", "2026-12-31T00:30:00+07:00")

    spent = one("total_spent", min="1000000", within_days=90)
    assert picked(hub, merchant.id, spent) == {inside}


def test_a_range_that_includes_zero_takes_members_who_bought_nothing(hub, api, merchant):
    none, little, much = add_member(api), add_member(api), add_member(api)
    add_order(api, little, "100000", "2026-12-01T10:00:00+07:00")
    add_order(api, much, "900000", "2026-12-01T10:00:00+07:00")

    assert picked(hub, merchant.id, one("total_spent", max="500000", within_days=90)) == {
        none,
        little,
    }
    assert picked(hub, merchant.id, one("order_count", max=0)) == {none}


def test_order_count_ever_and_in_the_last_n_days(hub, api, merchant):
    twice, once_lately = add_member(api), add_member(api)
    add_order(api, twice, "100000", JUST_BEFORE)
    add_order(api, twice, "100000", WINDOW_OPENS)
    add_order(api, once_lately, "100000", WINDOW_OPENS)
    add_order(api, once_lately, "100000", "2026-12-01T10:00:00+07:00", status="pending")

    assert picked(hub, merchant.id, one("order_count", min=2)) == {twice}
    recent = one("order_count", min=1, max=1, within_days=90)
    assert picked(hub, merchant.id, recent) == {twice, once_lately}


def test_first_and_last_order_dates_are_local_days(hub, api, merchant):
    old, recent = add_member(api), add_member(api)
    add_order(api, old, "100000", "2026-01-01T00:00:00+07:00")  # 31 Dec 2025 in UTC
    add_order(api, old, "100000", JUST_BEFORE)
    add_order(api, recent, "100000", WINDOW_OPENS)

    first_in_2026 = one("first_order", **{"from": "2026-01-01", "to": "2026-12-31"})
    assert picked(hub, merchant.id, first_in_2026) == {old, recent}
    assert picked(hub, merchant.id, one("first_order", to="2025-12-31")) == set()
    assert picked(hub, merchant.id, one("last_order", before_days=90)) == {old}
    assert picked(hub, merchant.id, one("last_order", within_days=90)) == {recent}


def test_birthday_within_n_days_crosses_the_year_end_in_local_time(hub, api, merchant):
    born = {
        day: add_member(api, birthday=f"1990-{day}") for day in ("12-30", "12-31", "01-03", "01-04")
    }
    # Local today is 31 December (the server's UTC date is still the 30th).
    within = picked(hub, merchant.id, one("birthday", within_days=3))
    assert within == {born["12-31"], born["01-03"]}


def test_birthday_on_29_february_counts_on_the_28th_in_other_years(hub, api, merchant):
    leapling = add_member(api, birthday="2000-02-29")
    on_27th = datetime(2027, 2, 26, 18, 0, tzinfo=UTC)  # 27 Feb 2027 local
    assert picked(hub, merchant.id, one("birthday", within_days=1), now=on_27th) == {leapling}
    assert picked(hub, merchant.id, one("birthday", within_days=0), now=on_27th) == set()


def test_birthday_months(hub, api, merchant):
    january = add_member(api, birthday="1991-01-15")
    add_member(api, birthday="1991-02-01")
    add_member(api)
    assert picked(hub, merchant.id, one("birthday", months=[1, 12])) == {january}


def test_location_matches_province_and_district(hub, api, merchant):
    q1 = add_member(api, province="Hồ Chí Minh", district="Quận 1")
    q3 = add_member(api, province="Hồ Chí Minh", district="Quận 3")
    add_member(api, province="Hà Nội", district="Quận 1")

    assert picked(hub, merchant.id, one("location", provinces=["Hồ Chí Minh"])) == {q1, q3}
    both = one("location", provinces=["Hồ Chí Minh"], districts=["Quận 1"])
    assert picked(hub, merchant.id, both) == {q1}


def test_source_connection_picks_members_known_to_it(hub, api, merchant):
    web = api.post("/api/v1/connections", json={"connector": "api", "name": "web"}).json
    shop = api.post("/api/v1/connections", json={"connector": "api", "name": "shop"}).json
    online, in_shop = add_member(api), add_member(api)
    for member_id, connection in ((online, web), (in_shop, shop)):
        identity = {"connection_id": connection["id"], "external_id": "c1"}
        assert api.post(f"/api/v1/members/{member_id}/identities", json=identity).status_code < 300

    assert picked(hub, merchant.id, one("source_connection", connection_ids=[web["id"]])) == {
        online
    }


def test_tags_any_all_and_none(hub, api, merchant):
    vip = add_member(api, tags=["vip", "sỉ"])
    only_vip = add_member(api, tags=["vip"])
    untagged = add_member(api)

    assert picked(hub, merchant.id, one("tags", tags=["sỉ", "x"])) == {vip}
    assert picked(hub, merchant.id, one("tags", tags=["vip", "sỉ"], match="all")) == {vip}
    assert picked(hub, merchant.id, one("tags", tags=["sỉ"], match="none")) == {only_vip, untagged}


def test_consent_per_channel(hub, api, merchant):
    sms = add_member(api, consents={"sms": True, "email": False})
    withdrew = add_member(api, consents={"sms": False})
    never = add_member(api)

    assert picked(hub, merchant.id, one("consent", channel="sms")) == {sms}
    assert picked(hub, merchant.id, one("consent", channel="sms", granted=False)) == {
        withdrew,
        never,
    }


def test_member_since_uses_local_days(hub, api, merchant):
    early, late = add_member(api), add_member(api)
    with hub.db.transaction() as session:
        # 00:00 on 1 December local is 17:00 on 30 November in UTC.
        for member_id, at in ((early, datetime(2026, 11, 30, 16, 59, 59, tzinfo=UTC)),
                              (late, datetime(2026, 11, 30, 17, 0, tzinfo=UTC))):  # fmt: skip
            session.execute(update(Member).where(Member.id == member_id).values(created_at=at))

    december = one("member_since", **{"from": "2026-12-01"})
    assert picked(hub, merchant.id, december) == {late}
    assert picked(hub, merchant.id, one("member_since", to="2026-11-30")) == {early}


def test_voucher_used_or_not_used(hub, api, merchant):
    used, unused, never = add_member(api), add_member(api), add_member(api)
    with hub.db.transaction() as session:
        for member_id, status in ((used, "used"), (unused, "issued")):
            session.add(
                Voucher(merchant_id=merchant.id, member_id=member_id, code=f"V{member_id}",
                        status=status, reward_name="Giảm 50k", kind="amount_off", currency="VND",
                        points=100, used_at=NOW if status == "used" else None)
            )  # fmt: skip

    assert picked(hub, merchant.id, one("voucher", used=True)) == {used}
    assert picked(hub, merchant.id, one("voucher", used=False)) == {unused, never}


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", "gold", {"string"}),
        ("ne", "gold", {"number", "boolean", "missing"}),
        ("gt", 5, {"number"}),
        ("lte", 7.5, {"number"}),
        ("lt", 7.5, set()),
        ("in", [7.5, 8], {"number"}),
        ("in", ["gold", "silver"], {"string"}),
        ("eq", True, {"boolean"}),
        ("exists", None, {"string", "number", "boolean"}),
        ("absent", None, {"missing"}),
    ],
)
def test_custom_attribute_compares_by_type(hub, api, merchant, op, value, expected):
    members = {
        "string": add_member(api, attributes={"level": "gold"}),
        "number": add_member(api, attributes={"level": 7.5}),
        "boolean": add_member(api, attributes={"level": True}),
        "missing": add_member(api, attributes={"other": "gold"}),
    }
    fields = {"name": "level", "op": op} | ({} if value is None else {"value": value})
    found = picked(hub, merchant.id, one("attribute", **fields))
    assert found == {members[name] for name in expected}


def test_all_and_any_combine_with_one_nested_group(hub, api, merchant):
    hn_vip = add_member(api, province="Hà Nội", tags=["vip"])
    hcm_vip = add_member(api, province="Hồ Chí Minh", tags=["vip"], consents={"sms": True})
    hcm = add_member(api, province="Hồ Chí Minh", consents={"sms": True})
    conditions = {
        "all": [
            {"kind": "location", "provinces": ["Hồ Chí Minh", "Hà Nội"]},
            {"any": [{"kind": "tags", "tags": ["vip"]}, {"kind": "consent", "channel": "sms"}]},
        ]
    }
    assert picked(hub, merchant.id, conditions) == {hn_vip, hcm_vip, hcm}
    either = {"any": [{"kind": "tags", "tags": ["vip"]}, {"kind": "consent", "channel": "sms"}]}
    assert picked(hub, merchant.id, either) == {hn_vip, hcm_vip, hcm}
    both = {"all": [{"kind": "tags", "tags": ["vip"]}, {"kind": "consent", "channel": "sms"}]}
    assert picked(hub, merchant.id, both) == {hcm_vip}
    assert picked(hub, merchant.id, {"all": []}) == {hn_vip, hcm_vip, hcm}


def test_a_segment_never_sees_another_merchants_members(hub, api, other_api, merchant):
    mine = add_member(api, tags=["vip"], consents={"sms": True})
    add_order(api, mine, "100000", "2026-12-01T10:00:00+07:00")
    theirs = add_member(other_api, tags=["vip"], consents={"sms": True})
    add_order(other_api, theirs, "100000", "2026-12-01T10:00:00+07:00")
    conditions = {
        "all": [
            {"kind": "tags", "tags": ["vip"]},
            {"kind": "consent", "channel": "sms"},
            {"kind": "order_count", "min": 1, "within_days": 90},
        ]
    }
    assert picked(hub, merchant.id, conditions) == {mine}
    assert picked(hub, merchant.id, {"all": []}) == {mine}


def test_merged_and_erased_members_are_never_picked(hub, api, merchant):
    kept, gone = add_member(api), add_member(api)
    with hub.db.transaction() as session:
        session.execute(update(Member).where(Member.id == gone).values(status="erased"))
    assert picked(hub, merchant.id, {"all": []}) == {kept}


def test_a_connection_of_another_merchant_is_not_a_source(hub, api, other_api, merchant):
    theirs = other_api.post("/api/v1/connections", json={"connector": "api"}).json
    with hub.db.session() as session:
        assert session.get(Connection, theirs["id"]).merchant_id != merchant.id
    response = api.post(
        "/api/v1/segments/preview",
        json={"conditions": one("source_connection", connection_ids=[theirs["id"]])},
    )
    assert response.status_code == 422
    assert "source_connection" not in response.json["error"]["details"]["conditions"]
    assert list(response.json["error"]["details"]["conditions"]) == ["all[0].connection_ids"]


class TierAgain:
    """A plugin that registers a condition kind the core already has."""

    __name__ = "tier-again"

    @hookimpl
    def register_segment_conditions(self, hub):
        return [SegmentCondition("tier", "Tier", Schema, lambda context, data: true())]


def test_two_plugins_may_not_register_one_condition_name(database_url, tmp_path):
    app = make_app(database_url, plugins=[TierAgain()], instance_path=tmp_path)
    try:
        with pytest.raises(ValueError, match="two plugins register the segment condition 'tier'"):
            condition_kinds(app.extensions["hub"])
    finally:
        app.extensions["hub"].db.dispose()
