"""Test helpers for the counter API: a POS connection with a key, called as a till would.

For the hub's tests and for anyone writing a POS integration: ``open_counter``
makes a connection and a key through the merchant API, and ``Till`` calls
``/pos/v1`` with that key, either through a Flask test client or over real
HTTP against a running hub (``Till.over_http``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests


@dataclass
class Answer:
    """A counter API answer, the same shape for a test client and real HTTP."""

    status_code: int
    json: Any
    headers: Any


@dataclass
class Till:
    """One till of one POS connection."""

    connection_id: int
    key: str
    location: str
    client: Any = None
    base_url: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def over_http(self, base_url: str) -> Till:
        """The same till, calling a hub served at ``base_url`` over real HTTP."""
        return Till(self.connection_id, self.key, self.location, base_url=base_url)

    def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if self.base_url is not None:
            response = requests.request(
                method, self.base_url + path, headers=headers, timeout=30, **kwargs
            )
            try:
                body = response.json()
            except ValueError:
                body = None
            return Answer(response.status_code, body, response.headers)
        if "params" in kwargs:
            kwargs["query_string"] = kwargs.pop("params")
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        return Answer(response.status_code, response.get_json(silent=True), response.headers)

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Answer:
        return self.call("POST", path, **kwargs)

    def sale(self, receipt: str, total: str, **fields: Any) -> Answer:
        """Send one sale; ``sold_at`` defaults to a fixed morning in Ho Chi Minh City."""
        body = {"receipt": receipt, "total": total, "sold_at": "2026-11-01T10:00:00+07:00"}
        return self.post("/pos/v1/sales", json={**body, **fields})


def open_counter(
    client: Any,
    merchant_headers: dict[str, str],
    *,
    location: str = "Quầy Lê Lợi",
    redemption: dict[str, Any] | None = None,
) -> Till:
    """Create a POS connection named for ``location``, with a key and optional redemption terms."""
    response = client.post(
        "/api/v1/connections",
        json={"connector": "pos", "name": location, "settings": {"location": location}},
        headers=merchant_headers,
    )
    assert response.status_code == 201, response.get_json()
    connection_id = response.get_json()["id"]
    issued = client.post(
        f"/api/v1/pos/connections/{connection_id}/keys",
        json={"name": "till 1"},
        headers=merchant_headers,
    )
    assert issued.status_code == 201, issued.get_json()
    if redemption is not None:
        terms = client.put(
            f"/api/v1/pos/connections/{connection_id}/redemption",
            json=redemption,
            headers=merchant_headers,
        )
        assert terms.status_code == 200, terms.get_json()
    return Till(connection_id, issued.get_json()["key"], location, client=client)
