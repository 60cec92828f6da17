"""The intake's one question to a connector: ``read_webhook`` and its default."""

from __future__ import annotations

from werkzeug.datastructures import Headers

from hub import Connector
from hub import WebhookDelivery


class ThreeMethods(Connector):
    """A connector written before ``read_webhook``: the three methods only."""

    name = "three"

    def __init__(self, verdict: bool) -> None:
        self.verdict = verdict
        self.asked: list[str] = []

    def verify_webhook(self, hub, connection, headers, body):
        self.asked.append("verify_webhook")
        return self.verdict

    def delivery_id(self, hub, connection, headers, body):
        self.asked.append("delivery_id")
        return headers.get("X-Delivery")

    def topic(self, hub, connection, headers, body):
        self.asked.append("topic")
        return headers.get("X-Topic", "")


HEADERS = Headers({"X-Delivery": "d-7", "X-Topic": "orders/paid"})


def test_a_connector_without_webhooks_answers_none():
    assert Connector().read_webhook(None, None, HEADERS, b"{}") is None


def test_the_default_answers_from_the_three_methods_of_an_older_connector():
    connector = ThreeMethods(verdict=True)

    answer = connector.read_webhook(None, None, HEADERS, b"{}")

    assert answer == WebhookDelivery(verified=True, delivery_id="d-7", topic="orders/paid")
    assert connector.asked == ["verify_webhook", "delivery_id", "topic"]


def test_a_refused_signature_is_answered_without_reading_the_delivery_further():
    connector = ThreeMethods(verdict=False)

    answer = connector.read_webhook(None, None, HEADERS, b"{}")

    assert answer == WebhookDelivery(verified=False)
    assert connector.asked == ["verify_webhook"]
