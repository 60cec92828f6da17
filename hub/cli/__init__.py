"""The ``hub`` command line: serve, worker, database, merchants, keys, imports, plugins."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from hub.cli.admin import api_keys
from hub.cli.admin import merchants
from hub.cli.admin import plugins_command
from hub.cli.database import db
from hub.cli.imports import import_group
from hub.cli.jobs import jobs_group
from hub.cli.runtime import cron_command
from hub.cli.runtime import serve
from hub.cli.runtime import worker
from hub.errors import StartupError


def _create_app():
    from hub.app import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def cli() -> None:
    """Storefront Hub: loyalty and integration hub for storefronts."""


for command in (
    serve,
    worker,
    cron_command,
    db,
    merchants,
    api_keys,
    plugins_command,
    import_group,
    jobs_group,
):
    cli.add_command(command)


def _add_plugin_commands() -> None:
    from hub.config import load_config
    from hub.pluginmanager import make_plugin_manager

    try:
        config = load_config(".", {"HUB_SECRET_KEY": "cli-listing-only"})
        pm = make_plugin_manager(
            disabled=str(config["HUB_DISABLE_PLUGINS"]).split(","),
            load_entrypoints=bool(config["HUB_LOAD_ENTRYPOINTS"]),
        )
    except StartupError as exc:
        click.echo(f"warning: plugin commands not loaded: {exc}", err=True)
        return
    pm.hook.register_commands(cli=cli)


def main() -> None:
    _add_plugin_commands()
    try:
        cli.main(prog_name="hub")
    except StartupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
