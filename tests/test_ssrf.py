"""The SSRF guard refuses every address form that reaches inside, and only those."""

from __future__ import annotations

import ipaddress

import pytest

from hub.address_policy import AddressPolicy
from hub.address_policy import BlockedURL
from hub.address_policy import check_literal
from hub.address_policy import refusal
from hub.address_policy import resolve

LOOPBACK = AddressPolicy(allow_loopback=True)
PRIVATE = AddressPolicy(allow_private=True)

BLOCKED_HOSTS = [
    "127.0.0.1",
    "127.1",  # short form of 127.0.0.1
    "2130706433",  # decimal 127.0.0.1
    "0x7f000001",  # hex 127.0.0.1
    "017700000001",  # octal 127.0.0.1
    "localhost",
    "0.0.0.0",
    "10.0.0.8",
    "172.16.3.4",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "169.254.169.254",  # cloud metadata
    "169.254.10.10",  # link-local
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped loopback
    "[::ffff:169.254.169.254]",
    "[fd00:ec2::254]",  # AWS IPv6 metadata
    "[fc00::1]",  # unique local
    "[fe80::1]",  # link-local
    "[ff02::1]",  # multicast
    "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
]


@pytest.mark.parametrize("host", BLOCKED_HOSTS)
def test_an_internal_address_is_refused_after_resolution(host):
    with pytest.raises(BlockedURL):
        resolve(f"http://{host}/hook")


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com", "//example.com", "x"],
)
def test_only_http_and_https_are_allowed(url):
    with pytest.raises(BlockedURL):
        resolve(url)


def test_credentials_in_the_url_are_refused():
    with pytest.raises(BlockedURL):
        check_literal("https://user:pass@example.com/hook")


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert refusal(ipaddress.ip_address(address)) is None


def test_loopback_is_allowed_only_when_the_setting_says_so():
    target = resolve("http://127.0.0.1:8080/hook?x=1", LOOPBACK)
    assert (target.address, target.port, target.path) == ("127.0.0.1", 8080, "/hook?x=1")
    assert target.host_header == "127.0.0.1:8080"
    with pytest.raises(BlockedURL):
        resolve("http://10.0.0.1/hook", LOOPBACK)
    with pytest.raises(BlockedURL):
        resolve("http://169.254.169.254/latest/meta-data/", LOOPBACK)


def test_localhost_resolves_once_to_the_address_connected_to():
    target = resolve("https://localhost/hook", LOOPBACK)
    assert ipaddress.ip_address(target.address).is_loopback
    assert (target.host, target.host_header, target.port) == ("localhost", "localhost", 443)


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(BlockedURL, match="cannot resolve"):
        resolve("https://hooks.invalid/hook")


def test_saving_an_endpoint_checks_literal_addresses_without_dns():
    check_literal("https://hooks.example.com/x")  # names are resolved at delivery
    for url in ("http://10.1.2.3/x", "http://[::1]/x", "http://localhost:9000/x"):
        with pytest.raises(BlockedURL):
            check_literal(url)
    check_literal("http://127.0.0.1:9000/x", LOOPBACK)


def test_the_name_is_resolved_once_so_a_rebinding_answer_is_never_used():
    """DNS rebinding: the first answer passes the check, a later one would point inside."""
    from hub.http import OutsideHTTP
    from webhooks import sender
    from webhooks.testing import Receiver

    answers = []

    def rebinding(host, port):
        address = "127.0.0.1" if not answers else "10.0.0.1"
        answers.append(address)
        return [address]

    client = OutsideHTTP(LOOPBACK, resolver=rebinding)
    with Receiver() as receiver:
        url = f"http://hooks.rebind.test:{receiver.port}/hook"
        outcome = sender.post(client, url, b"{}", {}, timeout=5)

    assert outcome.status_code == 200, outcome.error
    assert answers == ["127.0.0.1"]
    assert receiver.requests[0]["headers"]["host"] == f"hooks.rebind.test:{receiver.port}"


MIXED = [
    (["93.184.215.14", "10.0.0.1"], "private"),
    (["2606:4700:4700::1111", "::1"], "loopback"),
    (["93.184.215.14", "::ffff:10.0.0.1"], "private"),
    (["93.184.215.14", "169.254.169.254"], "metadata"),
    (["0.0.0.0"], "unspecified"),
]


@pytest.mark.parametrize(("answers", "reason"), MIXED)
def test_a_name_resolving_to_any_inside_address_is_refused(answers, reason):
    with pytest.raises(BlockedURL, match=reason):
        resolve("https://shop.example.com/x", resolver=lambda host, port: answers)


def test_a_name_resolving_only_to_public_addresses_connects_to_the_first():
    answers = ["93.184.215.14", "2606:4700:4700::1111"]
    target = resolve("https://shop.example.com/x", resolver=lambda host, port: answers)
    assert (target.address, target.host, target.port) == ("93.184.215.14", "shop.example.com", 443)


@pytest.mark.parametrize(
    "address", ["10.0.0.1", "172.16.3.4", "192.168.1.1", "100.64.0.1", "127.0.0.1", "fd12::1"]
)
def test_the_operator_setting_lets_loopback_and_private_addresses_through(address):
    ip = ipaddress.ip_address(address)
    assert refusal(ip) is not None
    assert PRIVATE.refusal(ip) is None


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "::ffff:169.254.169.254",
        "fd00:ec2::254",
        "100.100.100.200",
        "169.254.170.2",
        "169.254.10.10",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "240.0.0.1",
        "fe80::1",
        "ff02::1",
    ],
)
def test_metadata_and_other_unroutable_addresses_stay_refused_even_for_the_operator(address):
    assert PRIVATE.refusal(ipaddress.ip_address(address)) is not None


def test_ipv4_mapped_forms_are_judged_by_their_ipv4_address():
    assert "private" in refusal(ipaddress.ip_address("::ffff:10.0.0.1"))
    assert PRIVATE.refusal(ipaddress.ip_address("::ffff:10.0.0.1")) is None
    assert refusal(ipaddress.ip_address("::ffff:93.184.215.14")) is None
