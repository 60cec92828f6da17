"""``hub --help`` shows the hub's own commands and options, each with help text."""

from __future__ import annotations

import os

import click
import pytest
from click.testing import CliRunner

from hub.cli import cli
from hub.cli.group import hub_version


@pytest.fixture
def hub_cli(tmp_path, database_url):
    def run(*args: str):
        settings = {name: None for name in os.environ if name.startswith("HUB_")}
        settings.update(
            HUB_INSTANCE_PATH=str(tmp_path / "instance"),
            HUB_SECRET_KEY="s" * 32,
            HUB_DATABASE_URL=database_url,
        )
        return CliRunner().invoke(cli, list(args), env=settings, prog_name="hub")

    return run


def test_help_shows_only_the_hubs_own_options_and_commands(hub_cli):
    result = hub_cli("--help")

    assert result.exit_code == 0, result.output
    for foreign in ("--env-file", "--app", "--debug", "openapi", "routes", "shell"):
        assert foreign not in result.output
    for own in ("serve", "worker", "db", "merchants", "import", "jobs", "--version"):
        assert own in result.output
    # Commands that plugins add are listed too.
    assert "shopify" in result.output


def test_openapi_commands_of_the_api_library_are_not_reachable(hub_cli):
    result = hub_cli("openapi", "list-config-prefixes")

    assert result.exit_code == 2
    assert "No such command 'openapi'" in result.output


def test_version_prints_the_installed_version(hub_cli):
    result = hub_cli("--version")

    assert result.exit_code == 0
    assert result.output == f"hub {hub_version()}\n"
    assert hub_version()[0].isdigit()


def walk(group: click.Group, ctx: click.Context, path: tuple[str, ...] = ()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from walk(command, ctx, (*path, name))


def test_every_command_and_subcommand_has_help_text(app):
    ctx = click.Context(app.cli)
    missing = [
        " ".join(path)
        for path, command in walk(app.cli, ctx)
        if not (command.help or command.short_help or "").strip()
    ]
    names = [path for path, _ in walk(app.cli, ctx)]

    assert ("db", "upgrade") in names
    assert missing == []


def test_jobs_failed_says_there_are_none_when_the_registry_is_empty(redis_app):
    result = redis_app.test_cli_runner().invoke(args=["jobs", "failed"])

    assert result.exit_code == 0, result.output
    assert result.output == "no failed jobs\n"
