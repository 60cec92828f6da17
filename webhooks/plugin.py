"""The webhooks plugin: inbound intake and processing, outbound delivery, API and CLI."""

from __future__ import annotations

from pathlib import Path

from hub import PeriodicJob
from hub import hookimpl
from hub import register_api_blueprint
from hub import register_gauges
from hub import wants_events
from webhooks import intake
from webhooks import models  # noqa: F401 - registers the tables on hub.Model
from webhooks import outbound
from webhooks.api import blp as api_blueprint
from webhooks.gauges import inbox_backlog

MIGRATIONS = Path(__file__).parent / "migrations"


@hookimpl
def register_blueprints(hub):
    register_api_blueprint(hub.app, api_blueprint)
    return []


@hookimpl
def register_api_interfaces(hub):
    from webhooks.openapi import intake_interface

    return [intake_interface()]


@hookimpl
def startup(hub):
    intake.install(hub)
    register_gauges(hub, inbox_backlog)


@hookimpl
def register_migrations(hub):
    return [str(MIGRATIONS)]


@hookimpl
def register_periodic_jobs(hub):
    return [
        PeriodicJob(
            name="webhooks.sweep", func="webhooks.sweep.run_sweep", interval=60, queue="inbound"
        )
    ]


@hookimpl
def register_commands(cli):
    from webhooks.cli import webhooks_group

    cli.add_command(webhooks_group)


@hookimpl
@wants_events(outbound.events_with_endpoints)
def handle_event(hub, event):
    """Send the event to the merchant's endpoints that asked for its type."""
    outbound.fan_out(hub, event)
