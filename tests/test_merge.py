"""Merging two members moves identities, orders and points to the survivor, with an audit."""

from sqlalchemy import select

from hub.members.merges import merge_members
from hub.models import Member
from hub.models import MemberMerge
from hub.points import ledger

ORDER = {
    "source": "webshop",
    "subtotal": "100000",
    "total": "100000",
    "financial_status": "pending",
    "placed_at": "2026-11-01T10:00:00+07:00",
}


def credit(hub, member_id, points, key):
    with hub.db.transaction() as session:
        member = session.get(Member, member_id)
        ledger.credit(session, member, points, kind="adjust", key=key, note="test")


def test_merge_moves_everything_to_the_survivor_and_records_it(api, hub, recorded_events):
    # given two members for one person: one from the shop, one from the counter
    connection = api.post("/api/v1/connections", json={"connector": "api"}).json
    survivor = api.post("/api/v1/members", json={"phone": "0912345678", "name": "Lan"}).json
    merged = api.post(
        "/api/v1/members",
        json={"email": "lan@example.vn", "birthday": "1990-05-02", "tags": ["vip"],
              "consents": {"zalo": True}},
    ).json  # fmt: skip
    api.post(
        f"/api/v1/members/{merged['id']}/identities",
        json={"connection_id": connection["id"], "external_id": "c-9"},
    )
    api.post(
        "/api/v1/orders",
        json={**ORDER, "external_id": "1", "customer": {"email": "lan@example.vn"}},
    )
    credit(hub, survivor["id"], 100, "t:1")
    credit(hub, merged["id"], 250, "t:2")

    # when they are merged
    response = api.post(
        f"/api/v1/members/{survivor['id']}/merge", json={"from_member_id": merged["id"]}
    )

    # then the survivor has the identity, the order, the points and the missing fields
    assert response.status_code == 200, response.json
    body = response.json
    assert body["email"] == "lan@example.vn"
    assert body["birthday"] == "1990-05-02"
    assert body["tags"] == ["vip"]
    assert body["consents"]["zalo"]["granted"] is True
    assert body["identities"] == [{"connection_id": connection["id"], "external_id": "c-9"}]
    orders = api.get("/api/v1/orders", query_string={"member_id": survivor["id"]}).json["data"]
    assert [o["external_id"] for o in orders] == ["1"]
    with hub.db.session() as session:
        row = session.get(Member, survivor["id"])
        assert row.points_balance == 350
        assert ledger.balance_from_entries(session, survivor["id"]) == 350
        assert ledger.lots_remaining(session, survivor["id"]) == 350
        gone = session.get(Member, merged["id"])
        assert (gone.status, gone.merged_into_id, gone.points_balance) == (
            "merged",
            survivor["id"],
            0,
        )
        record = session.scalars(select(MemberMerge)).one()
        assert record.snapshot["email"] == "lan@example.vn"
        assert record.moved["point_entries"] == 1
        assert record.actor.startswith("api_key:")
    assert api.get(f"/api/v1/members/{merged['id']}").status_code == 200
    assert "member.merged" in recorded_events.types()


def test_merged_member_is_no_longer_found_by_search(api):
    a = api.post("/api/v1/members", json={"phone": "0912345678"}).json
    b = api.post("/api/v1/members", json={"phone": "0987654321"}).json
    api.post(f"/api/v1/members/{a['id']}/merge", json={"from_member_id": b["id"]})

    found = api.get("/api/v1/members").json["data"]

    assert [m["id"] for m in found] == [a["id"]]


def test_survivor_keeps_its_own_phone_and_consent(api):
    a = api.post("/api/v1/members", json={"phone": "0912345678", "consents": {"sms": False}}).json
    b = api.post("/api/v1/members", json={"phone": "0987654321", "consents": {"sms": True}}).json

    body = api.post(f"/api/v1/members/{a['id']}/merge", json={"from_member_id": b["id"]}).json

    assert body["phone"] == "+84912345678"
    assert body["consents"]["sms"]["granted"] is False


def test_a_member_cannot_be_merged_into_itself_or_twice(api):
    a = api.post("/api/v1/members", json={"phone": "0912345678"}).json
    b = api.post("/api/v1/members", json={"phone": "0987654321"}).json

    same = api.post(f"/api/v1/members/{a['id']}/merge", json={"from_member_id": a["id"]})
    first = api.post(f"/api/v1/members/{a['id']}/merge", json={"from_member_id": b["id"]})
    again = api.post(f"/api/v1/members/{a['id']}/merge", json={"from_member_id": b["id"]})

    assert same.status_code == 422
    assert first.status_code == 200
    assert again.status_code == 422
    assert again.json["error"]["code"] == "member_not_active"


def test_hook_member_merged_runs_inside_the_merge_transaction(app, hub, api):
    from hub import hookimpl

    seen = []

    class Plugin:
        @hookimpl
        def member_merged(self, session, survivor, merged):
            seen.append((survivor.id, merged.id, session.in_transaction()))

    hub.pm.register(Plugin(), name="merge-watcher")
    a = api.post("/api/v1/members", json={"phone": "0912345678"}).json
    b = api.post("/api/v1/members", json={"phone": "0987654321"}).json

    with hub.db.transaction() as session:
        merge_members(hub, session, api.merchant.id, a["id"], b["id"], actor="test")

    assert seen == [(a["id"], b["id"], True)]


def test_hook_member_merged_raising_rolls_the_merge_back(hub, api):
    import pytest

    from hub import hookimpl

    class Refuser:
        @hookimpl
        def member_merged(self):
            raise RuntimeError("refused")

    hub.pm.register(Refuser(), name="refuser")
    a = api.post("/api/v1/members", json={"phone": "0912345678"}).json
    b = api.post("/api/v1/members", json={"phone": "0987654321"}).json

    with pytest.raises(RuntimeError), hub.db.transaction() as session:
        merge_members(hub, session, api.merchant.id, a["id"], b["id"], actor="test")

    assert api.get(f"/api/v1/members/{b['id']}").json["status"] == "active"


def test_a_merge_waits_for_an_accrual_in_flight_and_adds_up_its_points(hub):
    import threading

    from hub.members.directory import create_member
    from hub.testing import create_test_merchant

    merchant_id = create_test_merchant(hub).id
    with hub.db.transaction() as session:
        survivor = create_member(session, merchant_id, {"phone": "0912000001"}).id
        merged = create_member(session, merchant_id, {"phone": "0912000002"}).id
    credit(hub, merged, 100, "before")

    # Given an accrual to the merged member holding its lock, not yet committed,
    accrual = hub.db._writer()
    accrual.begin()
    member = accrual.get(Member, merged)
    ledger.credit(accrual, member, 40, kind="adjust", key="in-flight", note="test")
    # when the merge starts meanwhile,
    done = threading.Event()

    def merge():
        with hub.db.transaction() as session:
            merge_members(hub, session, merchant_id, survivor, merged, actor="test")
        done.set()

    thread = threading.Thread(target=merge)
    thread.start()
    assert not done.wait(0.5)  # it waits for the accrual's lock
    accrual.commit()
    accrual.close()
    thread.join(30)
    assert done.is_set()

    # then the survivor holds both credits, and its total is its entries' sum.
    with hub.db.session() as session:
        assert session.get(Member, survivor).points_balance == 140
        assert ledger.balance_from_entries(session, survivor) == 140
        assert session.get(Member, merged).points_balance == 0
