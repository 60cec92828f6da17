"""The ``hub`` command line: serve, worker, database, merchants, keys, imports, exports,
reports, plugins, and ``remote`` (a running hub through its API).

The commands live on the app's own CLI group (``create_app`` adds them, and
plugins add theirs through ``register_commands``), so ``flask``'s test runner
and the ``hub`` script see the same set.
"""

from __future__ import annotations

import click

from hub.cli.admin import api_keys
from hub.cli.admin import merchants
from hub.cli.admin import plugins_command
from hub.cli.admin import staff
from hub.cli.database import db
from hub.cli.group import HubGroup
from hub.cli.group import hub_version
from hub.cli.imports import import_group
from hub.cli.jobs import jobs_group
from hub.cli.plugin_new import plugin_group
from hub.cli.remote import remote
from hub.cli.reports import export_group
from hub.cli.reports import reports_group
from hub.cli.runtime import cron_command
from hub.cli.runtime import demo
from hub.cli.runtime import serve
from hub.cli.runtime import worker

COMMANDS = (
    demo,
    serve,
    worker,
    cron_command,
    db,
    merchants,
    api_keys,
    staff,
    plugins_command,
    plugin_group,
    import_group,
    export_group,
    reports_group,
    jobs_group,
    remote,
)


def add_commands(group: click.Group) -> None:
    """Add the hub's commands to ``group`` (the app's CLI group)."""
    for command in COMMANDS:
        group.add_command(command)


@click.group(cls=HubGroup)
@click.version_option(
    hub_version(), "--version", "-V", prog_name="hub", message="%(prog)s %(version)s"
)
def cli() -> None:
    """Storefront Hub: loyalty and integration hub for storefronts.

    Settings come from HUB_* environment variables (see the README); without
    HUB_DATABASE_URL the hub keeps an SQLite file in its instance folder.
    """


add_commands(cli)


def main() -> None:
    """Run the ``hub`` command."""
    cli.main(prog_name="hub")
