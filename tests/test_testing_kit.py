"""hub.testing as a plugin author meets it: a live hub, a simulated service, factories."""

from __future__ import annotations

import pytest
import requests

from hub import body_signature
from hub.testing import DROP
from hub.testing import ServiceSimulator
from hub.testing import SimulatedResponse


class Echo(ServiceSimulator):
    """A service that answers 201 with the path it got, or 503 when told ``transient``."""

    key = "echo-key"

    def handle(self, request):
        if self.next_outcome() == "transient":
            return SimulatedResponse(503, {"error": "busy"})
        return SimulatedResponse(201, {"path": request.path, "got": request.json()})

    def callback_headers(self, body):
        return {"X-Echo-Signature": body_signature(self.key, body)}


@pytest.fixture
def echo():
    with Echo() as simulator:
        yield simulator


@pytest.mark.db_agnostic
def test_a_simulator_records_requests_and_plays_its_script_once_each(echo):
    echo.script("transient")
    first = requests.post(f"{echo.base_url}/v1/send", json={"to": "+84912345678"}, timeout=5)
    second = requests.post(f"{echo.base_url}/v1/send", json={"to": "+84912345679"}, timeout=5)
    assert (first.status_code, second.status_code) == (503, 201)
    assert second.json() == {"path": "/v1/send", "got": {"to": "+84912345679"}}
    assert [r.json()["to"] for r in echo.requests_to("/v1/send")] == [
        "+84912345678",
        "+84912345679",
    ]


@pytest.mark.db_agnostic
def test_a_scripted_answer_replaces_handle_and_a_drop_hangs_up(echo):
    echo.answer_next(SimulatedResponse(429, {"error": "slow down"}, {"Retry-After": "3"}), DROP)
    limited = requests.get(f"{echo.base_url}/x", timeout=5)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{echo.base_url}/x", timeout=5)
    assert requests.get(f"{echo.base_url}/x", timeout=5).status_code == 201
    assert len(echo.requests) == 3


def test_the_live_hub_serves_the_app_and_is_its_public_url(app, hub, hub_server, echo):
    # The hub's public URL is the live server's address, set after the app was built
    assert hub.config["HUB_PUBLIC_URL"] == hub_server.base_url
    assert app.config["HUB_PUBLIC_URL"] == hub_server.base_url
    assert requests.get(f"{hub_server.base_url}/healthz", timeout=5).status_code == 200
    # and a simulated service reaches it, signing as it does
    status = echo.call_back(f"{hub_server.base_url}/api/v1/members", json_body={"phone": "1"})
    assert status == 401  # the API wants a merchant's key: the call did reach the hub
    (sent,) = echo.callbacks
    assert (sent["status"], sent["body"]) == (401, b'{"phone": "1"}')


def test_factories_write_through_the_services_and_the_api_sees_it(api, make, merchant):
    member = make.member(phone="0987654321", email="mai@example.vn", tags=["vip"])
    assert member.phone == "+84987654321"
    # An order for that phone is the member's, and pays 1 point per 1,000 VND by default
    order = make.order(250000, phone="0987654321")
    assert order.member_id == member.id
    seen = api.get(f"/api/v1/members/{member.id}").json
    assert (seen["tags"], seen["points"]["available"]) == (["vip"], 250)


def test_factories_make_data_for_the_merchant_they_are_told(api, make):
    other = make.merchant("Cửa hàng khác")
    stranger = make.member(merchant_id=other.id, phone="0911111111")
    assert api.get(f"/api/v1/members/{stranger.id}").status_code == 404
    connection = make.connection("api", name="POS cũ")
    listed = api.get("/api/v1/connections").json
    assert [(c["id"], c["name"]) for c in listed] == [(connection.id, "POS cũ")]
