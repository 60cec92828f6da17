"""Flask's cookie sessions stay usable for plugins, at no cost to requests without one."""

from __future__ import annotations

import pytest
from flask import Blueprint
from flask import session

from hub import hookimpl

counter = Blueprint("session_counter", __name__)


@counter.post("/session-counter")
def count():
    session["visits"] = session.get("visits", 0) + 1
    return {"visits": session["visits"]}


@counter.get("/session-counter")
def read():
    return {"visits": session.get("visits", 0)}


class CounterPlugin:
    @hookimpl
    def register_blueprints(self, hub):
        return [counter]


@pytest.fixture
def hub_plugins():
    return [CounterPlugin()]


def test_a_plugin_can_keep_a_signed_session_across_requests(client):
    assert client.post("/session-counter").json == {"visits": 1}
    assert client.post("/session-counter").json == {"visits": 2}
    assert client.get("/session-counter").json == {"visits": 2}


def test_a_tampered_session_cookie_is_an_empty_session(client):
    assert client.post("/session-counter").json == {"visits": 1}
    cookie = client.get_cookie("session")
    client.set_cookie("session", cookie.value[:-2] + "xx")
    assert client.get("/session-counter").json == {"visits": 0}


def test_a_request_that_never_touches_the_session_sets_no_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    # Read without being written: no cookie, but caches are told it depends on one.
    response = client.get("/session-counter")
    assert "Set-Cookie" not in response.headers and "Cookie" in response.headers["Vary"]
