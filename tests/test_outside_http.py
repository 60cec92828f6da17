"""The hub's outside client: pinned addresses, no redirect inside, timeouts, caps, one verdict."""

from __future__ import annotations

import base64
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest
from simulators.internal import InternalService

from hub import AddressPolicy
from hub import AnswerTooLarge
from hub import BlockedURL
from hub import OutsideHTTP
from hub import OutsideResponse
from hub import OutsideUnreachable
from hub import PermanentError
from hub import RetryLater
from hub import outside_http
from hub import raise_for_status

PRIVATE = AddressPolicy(allow_private=True)


def public_looking(name: str):
    """A resolver that answers loopback for ``name``, as a partner's API host would resolve."""

    def resolve(host, port):
        assert host == name, host
        return ["127.0.0.1"]

    return resolve


class Recorder:
    """A loopback server that keeps each request's method, path, headers and body."""

    def __init__(self):
        self.seen = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.seen.append((self.command, self.path, dict(self.headers), body))
                self.send_response(201)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", "11")
                self.end_headers()
                self.wfile.write(b'{"ok":true}')

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder():
    server = Recorder()
    yield server
    server.close()


def test_a_redirect_to_an_internal_service_is_not_followed():
    with InternalService() as internal, InternalService(redirect_to=internal.url) as partner:
        client = OutsideHTTP(PRIVATE, resolver=public_looking("api.partner.test"))
        answer = client.get(f"http://api.partner.test:{partner.port}/send")
        assert answer.status_code == 302 and not answer.ok
        with pytest.raises(PermanentError):
            raise_for_status(answer, "the partner")
        assert (partner.count, internal.count) == (1, 0)


def test_a_followed_redirect_is_checked_against_the_strict_policy_whatever_the_operator_allows():
    metadata_path = "/latest/meta-data/iam/security-credentials/"
    with (
        InternalService() as internal,
        InternalService(redirect_to=f"{internal.url}{metadata_path}") as partner,
    ):
        client = OutsideHTTP(PRIVATE)
        with pytest.raises(BlockedURL, match="loopback"):
            client.get(f"{partner.url}/send", max_redirects=5)
        assert (partner.count, internal.count) == (1, 0)


def test_a_followed_redirect_to_another_host_carries_no_credentials_or_caller_headers(recorder):
    # Loopback stands in for two public hosts here: the hop policy is relaxed for the test only.
    to = f"http://localhost:{recorder.port}/next"
    with InternalService(redirect_to=to) as partner:
        client = OutsideHTTP(PRIVATE, redirect_policy=PRIVATE)
        answer = client.post(
            f"{partner.url}/send",
            json={"secret": "s"},
            auth=("sid", "token"),
            headers={"X-Shopify-Access-Token": "shpat_x"},
            max_redirects=1,
        )
    method, path, headers, body = recorder.seen[0]
    assert answer.status_code == 201 and (method, path, body) == ("GET", "/next", b"")
    assert "Authorization" not in headers and "X-Shopify-Access-Token" not in headers


def test_the_request_is_pinned_to_the_resolved_address_with_the_name_in_the_host_header(
    recorder,
):
    client = OutsideHTTP(PRIVATE, resolver=public_looking("api.partner.test"))
    answer = client.post(
        f"http://api.partner.test:{recorder.port}/v1/send?a=1",
        params={"b": "2 3", "skip": None},
        json={"phone": "0912345678", "text": "Xin chào"},
        auth=("sid", "token"),
        headers={"X-Extra": "yes"},
    )
    method, path, headers, body = recorder.seen[0]
    assert (method, path) == ("POST", "/v1/send?a=1&b=2+3")
    assert headers["Host"] == f"api.partner.test:{recorder.port}"
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"sid:token").decode()
    assert headers["X-Extra"] == "yes"
    assert json.loads(body) == {"phone": "0912345678", "text": "Xin chào"}
    assert answer.status_code == 201 and answer.json() == {"ok": True}
    assert answer.text == '{"ok":true}' and answer.headers["content-type"].startswith("applic")


def test_a_form_is_sent_url_encoded(recorder):
    OutsideHTTP(PRIVATE).post(f"http://127.0.0.1:{recorder.port}/f", data={"To": "+84 9", "x": "&"})
    _method, _path, headers, body = recorder.seen[0]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert body == b"To=%2B84+9&x=%26"


def test_an_answer_over_the_cap_is_refused_or_cut_when_the_caller_asks():
    with InternalService(body=b"x" * 5000) as big:
        client = OutsideHTTP(PRIVATE, max_bytes=4096)
        with pytest.raises(AnswerTooLarge):
            client.get(big.url)
        cut = client.get(big.url, max_bytes=100, truncate=True)
        assert cut.content == b"x" * 100


def test_an_endpoint_that_never_answers_times_out_as_a_transient_failure():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        port = listener.getsockname()[1]
        with pytest.raises(OutsideUnreachable, match=r"no answer within 0\.2 s") as caught:
            OutsideHTTP(PRIVATE).get(f"http://127.0.0.1:{port}/", timeout=(1, 0.2))
        assert isinstance(caught.value, RetryLater)
    finally:
        listener.close()


def test_a_refused_connection_is_a_transient_failure():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(OutsideUnreachable):
        OutsideHTTP(PRIVATE).get(f"http://127.0.0.1:{port}/")


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, RetryLater), (500, RetryLater), (503, RetryLater), (400, PermanentError)],
)
def test_answers_are_classified_once(status, error):
    answer = OutsideResponse(status, {}, b"nope", "https://api.example.com/")
    with pytest.raises(error) as caught:
        raise_for_status(answer, "the gateway")
    assert f"HTTP {status}" in str(caught.value)
    assert isinstance(caught.value, RetryLater) is (error is RetryLater)


def test_a_successful_answer_passes_the_classification():
    answer = OutsideResponse(204, {}, b"", "https://api.example.com/")
    assert raise_for_status(answer, "the gateway") is answer


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://0.0.0.0:80/"],
)
def test_metadata_and_unspecified_addresses_are_refused_even_with_private_targets_allowed(url):
    with pytest.raises(BlockedURL):
        OutsideHTTP(PRIVATE).get(url)


def test_the_hub_client_reaches_inside_only_when_the_operator_allows_private_targets(hub):
    with InternalService() as internal:
        with pytest.raises(BlockedURL, match="loopback"):
            outside_http(hub).get(internal.url)
        hub.config["HUB_ALLOW_PRIVATE_TARGETS"] = True
        assert outside_http(hub).get(internal.url).status_code == 200
        with pytest.raises(BlockedURL, match="metadata"):
            outside_http(hub).get("http://169.254.169.254/latest/meta-data/")
    assert internal.count == 1
