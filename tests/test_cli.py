"""The hub command line: merchants, keys, plugins, import, database."""

import json

from hub.merchants.accounts import authenticate


def test_merchants_create_prints_id_and_a_working_key(runner, client):
    result = runner.invoke(args=["merchants", "create", "Trà Sen Shop", "--json"])

    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) == {"merchant_id", "api_key", "owner_email", "sign_in_link"}
    response = client.get(
        "/api/v1/merchant", headers={"Authorization": f"Bearer {created['api_key']}"}
    )
    assert response.json["id"] == created["merchant_id"]
    assert response.json["name"] == "Trà Sen Shop"


def test_merchants_create_refuses_an_unknown_timezone(runner):
    result = runner.invoke(args=["merchants", "create", "Shop", "--timezone", "Nowhere/City"])
    assert result.exit_code != 0
    assert "unknown timezone" in result.output


def test_api_keys_create_and_revoke(runner, hub, merchant):
    created = runner.invoke(args=["api-keys", "create", "--merchant", str(merchant.id), "--json"])
    assert created.exit_code == 0, created.output
    key = json.loads(created.output)["api_key"]
    with hub.db.session() as session:
        assert authenticate(session, key) is not None

    revoked = runner.invoke(args=["api-keys", "revoke", key.split("_")[1]])

    assert revoked.exit_code == 0, revoked.output
    with hub.db.session() as session:
        assert authenticate(session, key) is None


def test_a_prefix_of_only_digits_is_still_a_prefix(runner, hub, merchant, monkeypatch):
    monkeypatch.setattr("hub.merchants.accounts.secrets.token_hex", lambda n: "1" * (2 * n))
    created = runner.invoke(args=["api-keys", "create", "--merchant", str(merchant.id), "--json"])
    key = json.loads(created.output)["api_key"]
    assert key.split("_")[1] == "111111111111"

    revoked = runner.invoke(args=["api-keys", "revoke", "111111111111"])

    assert revoked.exit_code == 0, revoked.output
    assert f"key {json.loads(created.output)['key_id']} (111111111111) revoked" in revoked.output
    with hub.db.session() as session:
        assert authenticate(session, key) is None
        assert authenticate(session, merchant.api_key) is not None


def test_api_keys_revoke_by_id_or_by_the_whole_key(runner, hub, merchant):
    first = json.loads(
        runner.invoke(args=["api-keys", "create", "--merchant", str(merchant.id), "--json"]).output
    )
    second = json.loads(
        runner.invoke(args=["api-keys", "create", "--merchant", str(merchant.id), "--json"]).output
    )

    by_id = runner.invoke(args=["api-keys", "revoke", str(first["key_id"])])
    by_key = runner.invoke(args=["api-keys", "revoke", second["api_key"]])

    assert by_id.exit_code == 0, by_id.output
    assert by_key.exit_code == 0, by_key.output
    with hub.db.session() as session:
        assert authenticate(session, first["api_key"]) is None
        assert authenticate(session, second["api_key"]) is None
        assert authenticate(session, merchant.api_key) is not None


def test_revoking_an_unknown_key_fails_clearly(runner):
    result = runner.invoke(args=["api-keys", "revoke", "abcdefabcdef"])
    assert result.exit_code != 0
    assert "no API key 'abcdefabcdef'" in result.output


def test_api_keys_for_an_unknown_merchant_fail_clearly(runner):
    result = runner.invoke(args=["api-keys", "create", "--merchant", "999"])
    assert result.exit_code != 0
    assert "merchant 999 does not exist" in result.output


def test_db_upgrade_is_safe_to_run_again_and_reports_every_head(runner, hub):
    from alembic.script import ScriptDirectory

    from hub.migrate import alembic_config

    heads = sorted(ScriptDirectory.from_config(alembic_config(hub)).get_heads())
    first = runner.invoke(args=["db", "upgrade"])
    second = runner.invoke(args=["db", "current"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert first.output.strip() == f"database at {', '.join(heads)}"
    assert second.output.strip() == ", ".join(heads)


def test_worker_without_redis_explains_that_jobs_run_inline(runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    assert "HUB_REDIS_URL is not set" in result.output


def test_hook_register_commands_adds_a_plugin_command(database_url):
    import click

    from hub import hookimpl
    from hub.testing import make_app

    class Greeter:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("greet")
            def greet():
                click.echo("xin chào")

    app = make_app(database_url, plugins=[Greeter()])
    result = app.test_cli_runner().invoke(args=["greet"])
    assert result.output.strip() == "xin chào"


def test_hub_script_runs_the_same_commands(tmp_path, database_url):
    import os
    import subprocess
    import sys

    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_INSTANCE_PATH": str(tmp_path)}
    script = os.path.join(os.path.dirname(sys.executable), "hub")
    result = subprocess.run(
        [script, "merchants", "create", "Shop", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["merchant_id"] >= 1
