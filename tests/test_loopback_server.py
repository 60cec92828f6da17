"""hub.LoopbackServer: the one way a simulator's WSGI app is put on a loopback port."""

from __future__ import annotations

import pytest
import requests

from hub import LoopbackServer

# The PostgreSQL lane of scripts/test skips these: a loopback server, no database.
pytestmark = pytest.mark.db_agnostic


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["PATH_INFO"].encode()]


def test_a_started_server_answers_on_a_free_port_and_stop_releases_it():
    server = LoopbackServer(hello)

    url = server.start()
    answer = requests.get(f"{url}/ping", timeout=10)
    server.stop()
    server.stop()

    assert url == f"http://127.0.0.1:{server.port}" and server.port > 0
    assert answer.text == "/ping"
    try:
        requests.get(f"{url}/ping", timeout=2)
    except requests.ConnectionError:
        refused = True
    else:
        refused = False
    assert refused


def test_as_a_context_manager_it_serves_inside_the_block_only():
    with LoopbackServer(hello) as server:
        assert requests.get(f"{server.url}/in", timeout=10).text == "/in"
    assert server.server is None
