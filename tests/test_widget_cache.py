"""The widget's cache on real Redis: two web processes, changes seen at once, stale never served."""

import pytest
from widget_setup import STORE_ORIGIN
from widget_setup import set_up_storefront

from hub.models import Member
from hub.points import ledger
from hub.testing import ApiClient
from hub.testing import create_test_merchant
from hub.testing import make_app
from hub.widget.tokens import sign_visitor


@pytest.fixture
def web_a(redis_app):
    """One web process."""
    return redis_app


@pytest.fixture
def web_b(database_url, redis_url, redis_prefix, tmp_path):
    """A second web process on the same database and Redis (its caches are its own)."""
    config = {"HUB_REDIS_URL": redis_url, "HUB_REDIS_PREFIX": redis_prefix}
    app = make_app(database_url, config=config, instance_path=tmp_path)
    yield app
    app.extensions["hub"].db.dispose()


@pytest.fixture
def store(web_a):
    hub = web_a.extensions["hub"]
    api = ApiClient(web_a.test_client(), create_test_merchant(hub, "Cửa hàng Hoa Mai"))
    return api, set_up_storefront(api, hub)


def panel(app, store, **headers):
    _, front = store
    token = sign_visitor(front.customer_id, front.widget_secret)
    return app.test_client().get(
        f"/widget/v1/c/{front.connection_id}/state",
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def test_a_ledger_change_in_one_process_shows_in_the_other_at_once(web_a, web_b, store):
    api, front = store
    assert panel(web_b, store).json["member"]["points"]["available"] == 1500
    assert panel(web_b, store).json["member"]["points"]["available"] == 1500  # from the cache
    response = api.post(
        f"/api/v1/members/{front.member_id}/adjustments", json={"points": 25, "reason": "gift"}
    )
    assert response.status_code == 201, response.json
    assert panel(web_b, store).json["member"]["points"]["available"] == 1525


def test_a_write_without_an_event_still_drops_the_panel(web_a, web_b, store):
    _, front = store
    first = panel(web_b, store)
    hub = web_a.extensions["hub"]
    with hub.db.transaction() as session:  # straight to the ledger: no event is emitted
        ledger.credit(session, session.get(Member, front.member_id), 7, kind="adjust", key="k")
    changed = panel(web_b, store, **{"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.json["member"]["points"]["available"] == 1507


def test_a_set_based_write_with_an_event_drops_the_panel(web_a, web_b, store):
    from sqlalchemy import update

    from hub.events import emit

    _, front = store
    first = panel(web_b, store)
    hub = web_a.extensions["hub"]
    with hub.db.transaction() as session:  # no ORM object changes: only the event names him
        merchant_id = session.get(Member, front.member_id).merchant_id
        session.expunge_all()
        session.execute(
            update(Member)
            .where(Member.id == front.member_id)
            .values(name="Lan (VIP)")
            .execution_options(synchronize_session=False)
        )
        emit(session, "points.adjusted", merchant_id, {"member_id": front.member_id})
    changed = panel(web_b, store, **{"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.json["member"]["name"] == "Lan (VIP)"


def test_settings_changed_in_one_process_apply_in_the_other_at_once(web_a, web_b, store):
    api, front = store
    assert panel(web_b, store, Origin=STORE_ORIGIN).headers["Access-Control-Allow-Origin"]
    other = "https://shop.example.vn"
    api.patch(
        f"/api/v1/connections/{front.connection_id}",
        json={"settings": {"storefront_origins": [other]}},
    )
    moved = panel(web_b, store, Origin=STORE_ORIGIN)
    assert "Access-Control-Allow-Origin" not in moved.headers
    assert panel(web_b, store, Origin=other).headers["Access-Control-Allow-Origin"] == other
    api.patch(f"/api/v1/connections/{front.connection_id}", json={"status": "disabled"})
    assert panel(web_b, store).status_code == 404


def test_a_new_reward_shows_in_the_guest_view_at_once(web_a, web_b, store):
    api, front = store
    path = f"/widget/v1/c/{front.connection_id}/state"
    before = web_b.test_client().get(path).json["rewards"]
    created = api.post(
        "/api/v1/rewards",
        json={"name": "Trà miễn phí", "kind": "amount_off", "value": "30000", "points_cost": 300},
    )
    assert created.status_code == 201, created.json
    after = web_b.test_client().get(path).json["rewards"]
    assert len(after) == len(before) + 1
    assert "Trà miễn phí" in [r["name"] for r in after]


def test_a_panel_built_before_a_change_is_never_served_after_it(web_a, store):
    api, front = store
    cache = web_a.extensions["hub"].widget_cache
    merchant_id = api.merchant.id
    assert panel(web_a, store).status_code == 200
    generation = cache.generation(merchant_id, front.member_id)  # a request reads...
    cache.drop(merchant_id, front.member_id)  # ...a change commits meanwhile...
    cache.remember(merchant_id, front.member_id, generation, b'{"stale":true}')  # ...too late
    glance = cache.glance(merchant_id, [], member_id=front.member_id)
    assert glance.panel is None
    cache.remember(merchant_id, front.member_id, glance.generation, b'{"fresh":true}')
    assert cache.glance(merchant_id, [], member_id=front.member_id).panel == b'{"fresh":true}'


def test_after_a_merge_the_visitor_sees_the_surviving_member(web_a, web_b, store):
    api, front = store
    assert panel(web_b, store).json["member"]["points"]["available"] == 1500
    survivor = api.post("/api/v1/members", json={"phone": "0987654321", "name": "Lan (mới)"}).json
    merged = api.post(
        f"/api/v1/members/{survivor['id']}/merge", json={"from_member_id": front.member_id}
    )
    assert merged.status_code == 200, merged.json
    member = panel(web_b, store).json["member"]
    assert member["name"] == "Lan (mới)"
    assert member["points"]["available"] == 1500


def test_an_unreachable_cache_still_answers_from_the_database(database_url, tmp_path, web_a, store):
    config = {"HUB_REDIS_URL": "redis://127.0.0.1:1/0", "HUB_REDIS_PREFIX": "nowhere"}
    app = make_app(database_url, config=config, instance_path=tmp_path)
    try:
        response = panel(app, store)
        assert response.status_code == 200
        assert response.json["member"]["points"]["available"] == 1500
    finally:
        app.extensions["hub"].db.dispose()


@pytest.mark.parametrize(
    ("lot", "low", "high"),
    [
        ({}, 3600, 3600),  # nothing changes with time: the longest life
        ({"available_at": 120}, 100, 121),  # pending points turn available in two minutes
        ({"expires_at": 90}, 70, 91),  # points expire in a minute and a half
        ({"expires_at": 30 * 86400 + 200}, 180, 201),  # they enter "expiring soon" then
    ],
)
def test_a_panel_lives_until_it_would_change_with_time_alone(web_a, store, lot, low, high):
    from datetime import timedelta

    from hub.db import utcnow
    from hub.widget.state import panel_lifetime

    _, front = store
    hub = web_a.extensions["hub"]
    now = utcnow()
    with hub.db.transaction() as session:
        member = session.get(Member, front.member_id)
        times = {name: now + timedelta(seconds=s) for name, s in lot.items()}
        ledger.credit(session, member, 10, kind="adjust", key="timed", **times)
    with hub.db.session() as session:
        ttl = panel_lifetime(session, session.get(Member, front.member_id), {"vouchers": []})
    assert low <= ttl <= high


def test_a_voucher_expiring_soon_shortens_the_panels_life(web_a, store):
    from datetime import timedelta

    from hub.db import utcnow
    from hub.widget.state import panel_lifetime

    _, front = store
    hub = web_a.extensions["hub"]
    soon = (utcnow() + timedelta(seconds=300)).isoformat()
    with hub.db.session() as session:
        member = session.get(Member, front.member_id)
        ttl = panel_lifetime(session, member, {"vouchers": [{"expires_at": soon}]})
    assert 280 <= ttl <= 301
