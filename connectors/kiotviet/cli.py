"""``hub kiotviet``: register a connection's webhooks from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hub import PermanentError
from hub import RetryLater


@click.group("kiotviet")
def kiotviet_group() -> None:
    """KiotViet connections."""


@kiotviet_group.command("register-webhooks")
@click.argument("connection_id", type=int)
@with_appcontext
def register(connection_id: int) -> None:
    """Register the hub's webhook at KiotViet for each event of CONNECTION_ID, now."""
    from connectors.kiotviet.subscriptions import register_webhooks

    try:
        registered = register_webhooks(connection_id)
    except (PermanentError, RetryLater) as exc:
        raise click.ClickException(str(exc)) from None
    for event, webhook_id in sorted(registered.items()):
        click.echo(f"{event}\t{webhook_id}")
