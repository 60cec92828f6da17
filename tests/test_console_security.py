"""A security sweep of every ``console.*`` route, generated from the app's url_map.

tests/test_console.py checks the GET pages anonymously and a few routes by hand;
here every rule and method is tried: anonymous, a user of another merchant, a
form without its CSRF token, a cashier; then stored XSS payloads in member
names, reward, tier, segment and campaign names on every page that shows them.
A route added later is swept without changing this file.
"""

from __future__ import annotations

import re

import campaign_fixtures
import pytest
from console_support import csrf
from console_support import csrf_of
from console_support import make_staff
from console_support import sign_in

console = campaign_fixtures.console  # an SMS gateway, so a campaign can be drafted
outbox = campaign_fixtures.outbox

#: Routes anyone may use: the front door, signing in, a link's own page, the language.
PUBLIC = {"console.index", "console.sign_in", "console.forgot", "console.link", "console.language"}
#: What a cashier may reach besides the public routes.
CASHIER = {"console.counter", "console.sign_out"}
# The phone is not 0912345678: the console shows that number as an example in phone fields.
#: Text of the first merchant that must never reach anyone else.
SECRETS = ("Nguyễn Thị Lan", "0938271645", "Quà Tết 2027", "Khách kim cương", "Hạng Kim Cương")
XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


def rules(app) -> list:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint.startswith("console.")),
        key=lambda r: r.rule,
    )


def path_of(rule, ids: dict[str, object]) -> str:
    """The rule's path with each argument filled from ``ids`` (an unknown one is 1)."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids.get(m.group(1), 1)), rule.rule)


def calls(app, ids: dict[str, object]) -> list[tuple[str, str, str]]:
    """(method, path, endpoint) for every console rule and method but static files."""
    found = []
    for rule in rules(app):
        if rule.endpoint == "console.static":
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((method, path_of(rule, ids), rule.endpoint))
    return found


@pytest.fixture
def first_shop(api, hub, merchant, console):
    """A member, tier, reward, segment, campaign, staff user and API key of the test merchant."""
    member = api.post(
        "/api/v1/members",
        json={"name": "Nguyễn Thị Lan", "phone": "0938271645", "tags": ["vip"]},
    ).json
    tier = api.post("/api/v1/tiers", json={"name": "Hạng Kim Cương", "threshold": 1}).json
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Quà Tết 2027", "kind": "amount_off", "value": "50000", "points_cost": 5},
    ).json
    segment = api.post(
        "/api/v1/segments",
        json={
            "name": "Khách kim cương",
            "conditions": {"all": [{"kind": "tags", "tags": ["vip"]}]},
        },
    ).json
    campaign = api.post(
        "/api/v1/campaigns",
        json={
            "name": "Khách kim cương",
            "segment_id": segment["id"],
            "channel": "sms",
            "templates": {"vi": "{shop}: chào {first_name}!"},
        },
    )
    assert campaign.status_code == 201, campaign.json
    owner = make_staff(hub, merchant.id, "owner")
    with hub.db.session() as session:
        from hub.models import ApiKey

        key_id = session.query(ApiKey.id).filter_by(merchant_id=merchant.id).scalar()
    return {
        "member_id": member["id"],
        "tier_id": tier["id"],
        "reward_id": reward["id"],
        "segment_id": segment["id"],
        "campaign_id": campaign.json["id"],
        "user_id": owner.id,
        "key_id": key_id,
        "import_id": "0" * 32,
        "token": "x" * 43,
    }


def assert_untouched(api, first_shop) -> None:
    """The first merchant's data is as it was and its key still works."""
    member = api.get(f"/api/v1/members/{first_shop['member_id']}")
    assert member.status_code == 200, "the key was revoked or the member erased"
    assert member.json["name"] == "Nguyễn Thị Lan"
    assert member.json["points"]["available"] == 0
    assert api.get(f"/api/v1/rewards/{first_shop['reward_id']}").json["name"] == "Quà Tết 2027"
    assert api.get(f"/api/v1/tiers/{first_shop['tier_id']}").json["name"] == "Hạng Kim Cương"


def test_every_route_refuses_an_anonymous_visitor(app, client, api, first_shop):
    token = csrf_of(client.get("/console/sign-in").get_data(as_text=True))
    for method, path, endpoint in calls(app, first_shop):
        if endpoint in PUBLIC:
            continue
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code in (302, 401, 404), (method, path, response.status_code)
        if response.status_code == 302:
            assert "/console/sign-in" in response.headers["Location"], (method, path)
        body = response.get_data(as_text=True)
        assert not any(secret in body for secret in SECRETS), (method, path)
    assert_untouched(api, first_shop)


def test_a_user_of_another_merchant_gets_404_never_data(
    app, client, hub, api, other_merchant, first_shop
):
    stranger = make_staff(hub, other_merchant.id, "owner", email="chu@shop-khac.example")
    sign_in(client, stranger.email)
    token = csrf(client)
    for method, path, endpoint in calls(app, first_shop):
        if endpoint in PUBLIC or "<" not in next(
            r.rule for r in rules(app) if r.endpoint == endpoint
        ):
            continue
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 404, (method, path, response.status_code)
        body = response.get_data(as_text=True)
        assert not any(secret in body for secret in SECRETS), (method, path)
    for method, path, endpoint in calls(app, first_shop):
        if method == "GET" and endpoint not in PUBLIC and "members.csv" not in path:
            body = client.get(path).get_data(as_text=True)
            assert not any(secret in body for secret in SECRETS), path
    assert_untouched(api, first_shop)


def test_every_form_without_its_csrf_token_is_refused(app, client, hub, merchant, api, first_shop):
    owner = make_staff(hub, merchant.id, "owner", email="chu@hoamai.example")
    sign_in(client, owner.email)
    for method, path, _endpoint in calls(app, first_shop):
        if method != "POST":
            continue
        response = client.post(path, data={"points": "100", "reason": "x", "name": "y"})
        assert response.status_code == 400, (path, response.status_code)
        forged = client.post(path, data={"csrf_token": "0" * 64, "points": "100"})
        assert forged.status_code == 400, (path, forged.status_code)
    assert_untouched(api, first_shop)


def test_a_cashier_is_refused_everything_but_the_counter(
    app, client, hub, merchant, api, first_shop
):
    cashier = make_staff(hub, merchant.id, "cashier")
    sign_in(client, cashier.email)
    token = csrf(client, "/console/counter")
    for method, path, endpoint in calls(app, first_shop):
        if endpoint in PUBLIC or endpoint in CASHIER:
            continue
        response = client.open(path, method=method, data={"csrf_token": token, "points": "9"})
        assert response.status_code == 403, (method, path, response.status_code)
        body = response.get_data(as_text=True)
        assert not any(secret in body for secret in SECRETS), (method, path)
    assert_untouched(api, first_shop)


@pytest.fixture
def hostile_shop(api, first_shop, request):
    """Every name a merchant or a customer types, set to the payload."""
    payload = request.param
    api.patch(f"/api/v1/members/{first_shop['member_id']}", json={"name": payload})
    api.post("/api/v1/members", json={"name": payload, "phone": "0987654321"})
    api.patch(f"/api/v1/rewards/{first_shop['reward_id']}", json={"name": payload})
    api.patch(f"/api/v1/tiers/{first_shop['tier_id']}", json={"name": payload})
    api.patch(f"/api/v1/segments/{first_shop['segment_id']}", json={"name": payload})
    api.patch(f"/api/v1/campaigns/{first_shop['campaign_id']}", json={"name": payload})
    return payload


@pytest.mark.parametrize("hostile_shop", XSS, indirect=True)
def test_stored_payloads_are_escaped_on_every_page(
    app, client, hub, merchant, api, first_shop, hostile_shop
):
    owner = make_staff(hub, merchant.id, "owner", email="chu@hoamai.example")
    sign_in(client, owner.email)
    shown = 0
    pages = [p for m, p, e in calls(app, first_shop) if m == "GET" and e not in PUBLIC]
    for path in [*pages, "/console/members?q=alert", "/console/counter?q=0987654321"]:
        response = client.get(path)
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        assert hostile_shop not in html, path
        assert "<img src=x" not in html and "<script>alert" not in html, path
        shown += "alert(1)" in html
    # The payloads are shown (escaped) on the members list, the profile, rewards, tiers,
    # segments and campaigns: the sweep looked at pages that hold them.
    assert shown >= 6
