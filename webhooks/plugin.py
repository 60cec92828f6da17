"""The webhooks plugin: inbound intake and processing, outbound delivery, API and CLI."""

from __future__ import annotations

from pathlib import Path

from hub import ConsolePage
from hub import PeriodicJob
from hub import hookimpl
from hub import register_api_blueprint
from hub import register_gauges
from hub import wants_events
from webhooks import health
from webhooks import intake
from webhooks import models  # noqa: F401 - registers the tables on hub.Model
from webhooks import outbound
from webhooks.api import blp as api_blueprint
from webhooks.gauges import inbox_backlog

MIGRATIONS = Path(__file__).parent / "migrations"


@hookimpl
def register_blueprints(hub):
    from webhooks.console import bp as console_blueprint

    register_api_blueprint(hub.app, api_blueprint)
    return [console_blueprint]


@hookimpl
def register_console_pages(hub):
    """The Outbound webhooks page, for owners (its strings are in the console's catalogues)."""
    title = {"vi": "Webhook gửi đi", "en": "Outbound webhooks"}
    return [ConsolePage("webhooks", "webhooks_console.endpoints", title, "owner")]


@hookimpl
def register_api_interfaces(hub):
    from webhooks.openapi import intake_interface
    from webhooks.openapi import outbound_interface

    return [intake_interface(), outbound_interface()]


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


@hookimpl
def connection_health(session, merchant_id, connection_ids):
    """The inbox's figures: last delivery, backlog, failures and the latest reason."""
    return health.inbox_health(session, merchant_id, connection_ids)


@hookimpl
def replay_failed_deliveries(hub, merchant_id, connection_id):
    """Queue the connection's failed inbox rows again."""
    return health.replay_failed(hub, merchant_id, connection_id)
