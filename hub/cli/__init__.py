"""The ``hub`` command line: serve, worker, database, merchants, keys, imports, plugins.

The commands live on the app's own CLI group (``create_app`` adds them, and
plugins add theirs through ``register_commands``), so ``flask``'s test runner
and the ``hub`` script see the same set.
"""

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
from hub.cli.runtime import demo
from hub.cli.runtime import serve
from hub.cli.runtime import worker
from hub.errors import StartupError

COMMANDS = (
    demo,
    serve,
    worker,
    cron_command,
    db,
    merchants,
    api_keys,
    plugins_command,
    import_group,
    jobs_group,
)


def add_commands(group: click.Group) -> None:
    """Add the hub's commands to ``group`` (the app's CLI group)."""
    for command in COMMANDS:
        group.add_command(command)


def _create_app():
    from hub.app import create_app

    return create_app()


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def cli() -> None:
    """Storefront Hub: loyalty and integration hub for storefronts."""


def main() -> None:
    """Run the ``hub`` command."""
    try:
        cli.main(prog_name="hub")
    except StartupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
