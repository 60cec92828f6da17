"""``hub remote``: a running hub's API from the command line, with no local database."""

from __future__ import annotations

import json
import socket

import pytest
from click.testing import CliRunner

from hub.cli import cli


@pytest.fixture
def remote(hub_server, merchant, monkeypatch, tmp_path):
    """Run ``hub remote ...`` against the live test hub, from a folder with no hub in it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    runner = CliRunner()

    def run(*args: str):
        base = ["remote", "--url", hub_server.base_url, "--key", merchant.api_key]
        return runner.invoke(cli, [*base, *args], catch_exceptions=False)

    return run


def test_members_are_created_listed_and_shown(remote):
    created = remote("members", "create", "--phone", "0912345678", "--name", "Lan", "--json")
    assert created.exit_code == 0, created.output
    member = json.loads(created.output)

    listed = remote("members", "list", "--q", "Lan")
    shown = remote("members", "show", str(member["id"]), "--json")

    assert listed.exit_code == 0, listed.output
    assert listed.output.split("\n")[0].split() == [
        str(member["id"]),
        member["code"],
        "Lan",
        "+84912345678",
        "0",
        "-",
    ]
    assert json.loads(shown.output)["phone"] == "+84912345678"


def test_points_are_adjusted_shown_and_spent(remote, api, member):
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50k", "kind": "amount_off", "value": "50000", "points_cost": 100},
    ).json
    added = remote("points", "adjust", str(member["id"]), "120", "--reason", "quà khai trương")
    taken = remote("points", "adjust", str(member["id"]), "--reason", "sửa", "--", "-5")
    spent = remote("rewards", "redeem", str(member["id"]), str(reward["id"]))
    shown = remote("points", "show", str(member["id"]), "--json")

    assert added.exit_code == 0 and "+120 points" in added.output, added.output
    assert taken.exit_code == 0 and "-5 points" in taken.output, taken.output
    assert "100 points spent, 15 left" in spent.output, spent.output
    answer = json.loads(shown.output)
    assert answer["points"]["available"] == 15
    assert [e["points"] for e in answer["ledger"]] == [-100, -5, 120]
    assert f"{reward['id']}  Giảm 50k  100 points" in remote("rewards", "list").output


def test_an_api_error_is_one_line_with_its_code_and_exit_status_1(remote):
    result = remote("members", "show", "999999")
    assert result.exit_code == 1
    assert result.output.startswith("Error: member_not_found (404): ")
    assert len(result.output.strip().splitlines()) == 1


def test_a_wrong_key_is_refused_with_the_apis_code(hub_server):
    result = CliRunner().invoke(
        cli, ["remote", "--url", hub_server.base_url, "--key", "hub_nope", "merchant"]
    )
    assert result.exit_code == 1
    assert "(401)" in result.output


def test_a_hub_that_does_not_answer_is_named_in_one_line():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = CliRunner().invoke(cli, ["remote", "--url", url, "--key", "hub_x", "merchant"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: the hub at {url}: ")


def test_an_address_without_a_scheme_is_a_usage_error():
    result = CliRunner().invoke(
        cli, ["remote", "--url", "hub.example.vn", "--key", "hub_x", "merchant"]
    )
    assert result.exit_code == 2
    assert "http:// or https://" in result.output


def test_the_url_and_key_are_required():
    result = CliRunner().invoke(cli, ["remote", "merchant"], env={"HUB_REMOTE_URL": None})
    assert result.exit_code == 2
    assert "--url" in result.output
