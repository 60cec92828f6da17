"""The widget's JSON API: guest and member views, tokens, caching, CORS, limits, redeem."""

import re
import time

import pytest
from widget_setup import STORE_ORIGIN
from widget_setup import set_up_storefront

from hub import hookimpl
from hub.widget.tokens import sign
from hub.widget.tokens import sign_visitor


@pytest.fixture
def store(api, hub):
    return set_up_storefront(api, hub)


def state(client, store, token=None, **headers):
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.get(f"/widget/v1/c/{store.connection_id}/state", headers=headers)


def test_without_a_token_the_visitor_sees_the_guest_view(client, store):
    body = state(client, store).json
    assert body["member"] is None
    assert body["shop"] == "Cửa hàng Hoa Mai"
    assert body["ways_to_earn"][0] == {"kind": "purchase", "amount": "1000", "points": 1}
    assert [r["points_cost"] for r in body["rewards"]] == [1000, 5000]
    assert body["join_url"] == f"{STORE_ORIGIN}/account/register"
    assert body["sign_in_url"] == f"{STORE_ORIGIN}/account/login"
    assert body["texts"]["join"] == "Tham gia ngay"
    assert body["texts"]["points"] == {"one": "{n} điểm", "other": "{n} điểm"}
    english = client.get(f"/widget/v1/c/{store.connection_id}/state?locale=en").json
    assert english["texts"]["points"] == {"one": "{n} point", "other": "{n} points"}


def test_a_valid_token_shows_the_members_own_view(client, store):
    token = sign_visitor(store.customer_id, store.widget_secret)
    member = state(client, store, token).json["member"]
    assert member["points"] == {"available": 1500, "pending": 0, "total": 1500}
    assert member["tier"]["name"] == "Bạc"
    assert member["tier"]["next"] == {"name": "Vàng", "threshold": "5000"}
    assert member["tier"]["delta_to_next"] == "3500"
    assert member["qr_svg"].startswith("<svg")
    # The shop has no referral programme: no link that would promise a reward.
    assert member["referral_url"] is None and member["referrals"] is None
    assert member["qr_svg"].startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    [line] = member["activity"]
    assert (line["kind"], line["order"], line["points"]) == ("order", "W-1", 1500)
    assert "note" not in line  # the engine's own words never reach a shopper


@pytest.mark.parametrize(
    "make_token",
    [
        lambda s: sign_visitor(s.customer_id, "wsk_not-the-secret"),
        lambda s: sign_visitor(s.customer_id, s.widget_secret)[:-4] + "AAAA",
        lambda s: sign(
            {"sub": s.customer_id, "iat": int(time.time()) - 900, "exp": int(time.time()) - 600},
            s.widget_secret,
        ),
        lambda s: sign(
            {"sub": s.customer_id, "iat": int(time.time()), "exp": int(time.time()) + 3600},
            s.widget_secret,
        ),
        lambda s: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJjdXN0LTEifQ.",
        lambda s: "garbage",
    ],
    ids=["wrong-secret", "tampered", "expired", "too-long-lived", "alg-none", "garbage"],
)
def test_forged_expired_or_malformed_tokens_get_the_guest_view(client, store, make_token):
    response = state(client, store, make_token(store))
    assert response.status_code == 200
    assert response.json["member"] is None
    assert "0912345678" not in response.get_data(as_text=True)


def test_a_token_for_another_customer_never_shows_this_member(client, store):
    token = sign_visitor("someone-else", store.widget_secret)
    assert state(client, store, token).json["member"] is None


def test_a_token_signed_for_another_connection_is_refused(api, client, store):
    other = api.post("/api/v1/connections", json={"connector": "api"}).json
    other_secret = api.post(f"/api/v1/connections/{other['id']}/widget-secret").json
    token = sign_visitor(store.customer_id, other_secret["widget_secret"])
    assert state(client, store, token).json["member"] is None


def test_cors_allows_only_the_storefront_origin(client, store):
    allowed = state(client, store, Origin=STORE_ORIGIN)
    other = state(client, store, Origin="https://evil.example")
    preflight = client.options(
        f"/widget/v1/c/{store.connection_id}/state",
        headers={"Origin": STORE_ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == STORE_ORIGIN
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_etag_answers_304_until_the_ledger_changes(client, hub, store):
    token = sign_visitor(store.customer_id, store.widget_secret)
    first = state(client, store, token)
    again = state(client, store, token, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304

    from hub.models import Member

    with hub.db.transaction() as session:
        from hub.points import ledger

        ledger.credit(session, session.get(Member, store.member_id), 10, kind="adjust", key="x")
    changed = state(client, store, token, **{"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.json["member"]["points"]["available"] == 1510


def test_redeeming_from_the_widget_debits_and_shows_the_voucher(client, store):
    token = sign_visitor(store.customer_id, store.widget_secret)
    response = client.post(
        f"/widget/v1/c/{store.connection_id}/redeem",
        json={"reward_id": store.reward_ids[0]},
        headers={"Authorization": f"Bearer {token}", "Origin": STORE_ORIGIN},
    )
    assert response.status_code == 201, response.json
    code = response.json["voucher"]["code"]
    assert response.json["points"]["available"] == 500
    member = state(client, store, token).json["member"]
    assert member["points"]["available"] == 500
    assert [v["code"] for v in member["vouchers"]] == [code]


def test_redeeming_more_than_the_balance_is_a_clear_409(client, store):
    token = sign_visitor(store.customer_id, store.widget_secret)
    response = client.post(
        f"/widget/v1/c/{store.connection_id}/redeem",
        json={"reward_id": store.reward_ids[1]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "insufficient_points"


def test_redeeming_as_a_guest_is_refused(client, store):
    response = client.post(
        f"/widget/v1/c/{store.connection_id}/redeem", json={"reward_id": store.reward_ids[0]}
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "sign_in_required"


def test_visitors_are_rate_limited(api, client, hub, store):
    api.patch(
        f"/api/v1/connections/{store.connection_id}",
        json={"settings": {"widget_rate_limits": {"visitor_per_minute": 3}}},
    )
    codes = [state(client, store).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]


def test_unknown_or_disabled_connection_is_404(api, client, store):
    assert client.get("/widget/v1/c/999/state").status_code == 404
    api.patch(f"/api/v1/connections/{store.connection_id}", json={"status": "disabled"})
    assert state(client, store).status_code == 404


def test_loader_script_is_small_cacheable_and_self_contained(client):
    import gzip

    response = client.get("/widget/v1/loader.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert len(gzip.compress(response.data)) <= 30 * 1024
    assert "max-age" in response.headers["Cache-Control"]
    assert (
        client.get(
            "/widget/v1/loader.js", headers={"If-None-Match": response.headers["ETag"]}
        ).status_code
        == 304
    )
    text = response.get_data(as_text=True)
    assert "attachShadow" in text
    # The one outside address is Zalo's share page, a link the shopper may follow: the
    # script loads and calls nothing outside the hub.
    outside = set(re.findall(r"https?://[^\"' ]+", text))
    assert outside == {
        "https://button-share.zalo.me/share_external?layout=1&color=blue&customize=false&url="
    }


def test_hook_widget_data_adds_keys_to_the_member_panel(client, hub, store):
    class Loyal:
        @hookimpl
        def widget_data(self, member):
            return {"favourite": f"tea for {member.name}"}

    hub.pm.register(Loyal(), name="loyal")
    token = sign_visitor(store.customer_id, store.widget_secret)
    assert state(client, store, token).json["member"]["extra"] == {"favourite": "tea for Lan"}


def test_connector_widget_identity_lets_a_connector_vouch_for_a_visitor(client, hub, store):
    from hub.models import Member

    class AppProxy(type(hub.connector("api"))):
        def widget_identity(self, hub, connection, request):
            if request.args.get("proxy_signature") == "valid":
                with hub.db.session() as session:
                    member = session.get(Member, store.member_id)
                    session.expunge(member)
                    return member
            return None

    hub.connectors["api"] = AppProxy()
    url = f"/widget/v1/c/{store.connection_id}/state"
    assert client.get(url + "?proxy_signature=valid").json["member"]["name"] == "Lan"
    assert client.get(url + "?proxy_signature=forged").json["member"] is None


@pytest.mark.db_agnostic
@pytest.mark.parametrize(
    ("connector", "settings", "links"),
    [
        ("shopify", {}, ("/account/register", "/account/login")),
        ("haravan", {}, ("/account/register", "/account/login")),
        (
            "shopify",
            {"join_url": "https://hoamai.vn/dang-ky", "sign_in_url": "/dang-nhap"},
            ("https://hoamai.vn/dang-ky", "/dang-nhap"),
        ),
        ("api", {}, (None, None)),
    ],
)
def test_connector_storefront_links_are_the_stores_own_pages(hub, connector, settings, links):
    from hub.models import Connection

    found = hub.connector(connector).storefront_links(Connection(settings=settings))
    assert (found["join"], found["sign_in"]) == links


@pytest.mark.db_agnostic
def test_a_day_is_the_merchants_day_written_the_merchants_way():
    from datetime import UTC
    from datetime import datetime

    from hub.calendar_days import day_text

    late_evening_in_hanoi = datetime(2027, 1, 5, 17, 30, tzinfo=UTC)
    assert day_text(late_evening_in_hanoi, "vi", "Asia/Ho_Chi_Minh") == "06/01/2027"
    assert day_text(late_evening_in_hanoi, "en", "Asia/Ho_Chi_Minh") == "6 Jan 2027"
    assert day_text(late_evening_in_hanoi, "vi", "UTC") == "05/01/2027"
    assert day_text(None, "vi", None) is None
