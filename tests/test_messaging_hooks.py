"""The messaging contract, each part through a small plugin of the test's own (a "pigeon"
gateway connector and an "anniversary" message kind)."""

from __future__ import annotations

import pytest
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect
from simulators.fixtures import message

from hub import DeliveryReceipt
from hub import GatewayConnector
from hub import MessageKind
from hub import SendResult
from hub import Unauthorized
from hub import hookimpl
from hub import queue_message
from hub.messaging.callbacks import callback_url
from hub.models import Connection


class PigeonGateway(GatewayConnector):
    """A gateway that keeps what it was asked to send, in its plugin's outbox."""

    name = "pigeon"
    title = "Pigeon"

    def __init__(self, outbox):
        self.outbox = outbox

    def send(self, hub, connection, message):
        self.outbox.append(message)
        return SendResult(gateway_message_id=f"pg-{message.reference}", status="sent")

    def verify_callback(self, hub, connection, callback):
        if callback.headers.get("X-Pigeon-Key") != "coo":
            raise Unauthorized("the X-Pigeon-Key is wrong")

    def read_callback(self, hub, connection, callback):
        return [
            DeliveryReceipt(status=callback.form["status"], gateway_message_id=callback.form["id"])
        ]


class Pigeon:
    """A gateway plugin: it registers the pigeon gateway connector."""

    __name__ = "pigeon"

    def __init__(self):
        self.outbox = []

    @hookimpl
    def register_connectors(self, hub):
        return [PigeonGateway(self.outbox)]


class Anniversary:
    """An automatic message kind of the test's own."""

    __name__ = "anniversary"

    @hookimpl
    def register_message_kinds(self, hub):
        return [
            MessageKind(
                name="anniversary",
                title="Anniversary",
                category="transactional",
                templates={
                    "vi": "{shop}: {first_name} đã đồng hành {years} năm!",
                    "en": "{years} years!",
                },
                variables=("years",),
                sample={"years": 3},
            )
        ]


@pytest.fixture
def pigeon():
    return Pigeon()


@pytest.fixture
def hub_plugins(pigeon):
    return [pigeon, Anniversary()]


def _pigeon_setup(api, **kinds):
    connection_id = connect(api, "pigeon", settings={}, secrets={})
    configure(
        api,
        channel_order=["sms"],
        connections={"sms": connection_id},
        kinds={name: {"enabled": True} for name in (kinds or {"anniversary": {}})},
    )
    return connection_id


def _queue(hub, merchant, member, kind="anniversary", key="y3"):
    return queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind=kind,
        key=key,
        variables={"years": 3},
    )


def test_hook_register_message_kinds_offers_a_kind_the_merchant_can_switch_on(api):
    # Given a plugin registering "anniversary"
    settings = api.get("/api/v1/messaging/settings").json
    # Then merchants see it, off, with its wording and placeholders
    kinds = {k["name"]: k for k in settings["available_kinds"]}
    assert "years" in kinds["anniversary"]["variables"]
    assert settings["kinds"]["anniversary"]["enabled"] is False
    assert (
        settings["kinds"]["anniversary"]["templates"]["vi"]
        == "{shop}: {first_name} đã đồng hành {years} năm!"
    )
    # And a template using a placeholder the kind does not offer is refused
    response = api.put(
        "/api/v1/messaging/settings",
        json={"kinds": {"anniversary": {"templates": {"vi": "{name} {birthday}"}}}},
    )
    assert response.status_code == 422
    assert "birthday" in response.json["error"]["message"]


def test_hook_register_message_kinds_renders_the_kind_for_a_member(api, hub, merchant, pigeon):
    _pigeon_setup(api)
    member = add_member(api)
    message_id = _queue(hub, merchant, member)
    assert pigeon.outbox[0].text == "Cua hang Hoa Mai: Lan da dong hanh 3 nam!"
    assert message(api, message_id)["body"] == "Cửa hàng Hoa Mai: Lan đã đồng hành 3 năm!"


def test_connector_gateway_lets_a_merchant_route_sms_to_the_connector(api):
    # Given a pigeon connection and a store connection (custom)
    pigeon_id = connect(api, "pigeon", settings={}, secrets={})
    custom = api.post(
        "/api/v1/connections", json={"connector": "custom", "settings": {}, "secrets": {}}
    ).json["id"]
    # Then SMS may go through pigeon, but Zalo may not, nor may a store connector send SMS
    ok = api.put("/api/v1/messaging/settings", json={"connections": {"sms": pigeon_id}})
    zalo = api.put("/api/v1/messaging/settings", json={"connections": {"zalo": pigeon_id}})
    store = api.put("/api/v1/messaging/settings", json={"connections": {"sms": custom}})
    assert ok.status_code == 200
    assert zalo.status_code == 422 and "cannot send zalo" in zalo.json["error"]["message"]
    assert store.status_code == 422
    assert [g["connector"] for g in ok.json["gateways"]] == ["pigeon"]


def test_connector_send_message_gets_the_message_ready_to_go(api, hub, merchant, pigeon):
    connection_id = _pigeon_setup(api)
    member = add_member(api)
    message_id = _queue(hub, merchant, member)
    outgoing = pigeon.outbox[0]
    assert (outgoing.to, outgoing.channel, outgoing.kind) == ("+84912345678", "sms", "anniversary")
    assert outgoing.reference == str(message_id)
    assert outgoing.segments == 1 and outgoing.unicode is False
    assert outgoing.receipts_url is None  # no HUB_PUBLIC_URL in this test
    sent = message(api, message_id)
    assert (sent["status"], sent["gateway"], sent["connection_id"]) == (
        "sent",
        "pigeon",
        connection_id,
    )
    assert sent["gateway_message_id"] == f"pg-{message_id}"


def test_connector_gateway_callback_turns_a_request_into_receipts(
    api, client, hub, merchant, pigeon
):
    connection_id = _pigeon_setup(api)
    hub.config["HUB_PUBLIC_URL"] = "https://hub.example.com"
    message_id = _queue(hub, merchant, add_member(api))
    with hub.db.session() as session:
        url = callback_url(hub, session.get(Connection, connection_id))
    path = url.removeprefix("https://hub.example.com")
    report = {"status": "delivered", "id": f"pg-{message_id}"}
    # A request with the wrong key is refused, the right one delivers the message
    refused = client.post(path, data=report, headers={"X-Pigeon-Key": "hawk"})
    assert refused.status_code == 401
    assert message(api, message_id)["status"] == "sent"
    accepted = client.post(path, data=report, headers={"X-Pigeon-Key": "coo"})
    assert accepted.status_code == 200 and accepted.json["receipts"] == 1
    assert message(api, message_id)["status"] == "delivered"
