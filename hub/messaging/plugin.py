"""The messaging core as a built-in plugin: callback URLs, the sweep, erasure, a command."""

from __future__ import annotations

import click
from flask import current_app
from sqlalchemy import update

from hub.events import handles_events
from hub.jobs import PeriodicJob
from hub.markers import hookimpl
from hub.messaging.models import Message


@hookimpl(trylast=True)
def register_blueprints(hub):
    from hub.messaging.receipts import bp
    from hub.messaging.unsubscribe import bp as unsubscribe

    return [bp, unsubscribe]


@hookimpl(trylast=True)
def register_periodic_jobs(hub):
    """Release held messages and retries whose time has come, every minute."""
    return [
        PeriodicJob(
            name="messaging.sweep",
            func="hub.messaging.delivery.run_sweep",
            interval=60,
            queue="messages",
        )
    ]


@hookimpl(trylast=True)
@handles_events("member.deleted")
def handle_event(hub, event):
    """Scrub an erased member's messages: number, text and values go, the record stays."""
    if event.type != "member.deleted":
        return
    with hub.db.transaction() as session:
        session.execute(
            update(Message)
            .where(
                Message.merchant_id == event.merchant_id,
                Message.member_id == event.data["member_id"],
            )
            .values(recipient=None, body="", variables={}, reason="erased")
            .execution_options(synchronize_session=False)
        )


@hookimpl(trylast=True)
def register_commands(cli):
    @cli.group("messages")
    def messages_group() -> None:
        """Automatic messages: release held ones."""

    @messages_group.command("release")
    def release() -> None:
        """Send held messages and retries that are due (the worker's sweep does this too)."""
        from hub.messaging.delivery import release_due

        hub = current_app.extensions["hub"]
        click.echo(f"{release_due(hub)} messages released")
