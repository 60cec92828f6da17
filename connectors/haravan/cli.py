"""``hub haravan backfill|setup|reconcile CONNECTION_ID`` and ``hub simulate haravan``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hub import HubError
from hub import current_hub


@click.group("haravan")
def haravan_group() -> None:
    """Haravan shops: history import, setup, reconciliation."""


@haravan_group.command("backfill")
@click.argument("connection_id", type=int)
@click.option("--restart", is_flag=True, help="Start over instead of resuming.")
@with_appcontext
def backfill_command(connection_id: int, restart: bool) -> None:
    """Import the shop's customers and order history, resuming where a run stopped."""
    from connectors.haravan.sync import backfill
    from connectors.haravan.sync import totals

    hub = current_hub()
    try:
        total = totals(hub, connection_id)
        if total is None:
            raise click.ClickException(f"haravan connection {connection_id} is not active")
        with click.progressbar(length=total, label="Importing customers and orders") as bar:
            state = backfill(hub, connection_id, progress=bar.update, restart=restart)
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{state.get('done', 0)} records imported; phase {state.get('phase')}")


@haravan_group.command("setup")
@click.argument("connection_id", type=int)
@with_appcontext
def setup_command(connection_id: int) -> None:
    """Subscribe the shop's webhook topics and add the widget now."""
    from connectors.haravan.setup import setup_connection

    try:
        click.echo(setup_connection(connection_id))
    except HubError as exc:
        raise click.ClickException(exc.message) from None


@haravan_group.command("reconcile")
@click.argument("connection_id", type=int)
@click.option("--hours", type=int, default=48, show_default=True)
@with_appcontext
def reconcile_command(connection_id: int, hours: int) -> None:
    """Apply orders updated in the last HOURS and restore missing topics."""
    from connectors.haravan.sync import reconcile_connection

    try:
        click.echo(reconcile_connection(connection_id, window_hours=hours))
    except HubError as exc:
        raise click.ClickException(exc.message) from None


@click.command("haravan")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8702, show_default=True, type=int)
@click.option("--org-id", default="1000114691", show_default=True)
@click.option("--client-id", default="sim-client-id", show_default=True)
@click.option("--client-secret", default="sim-client-secret", show_default=True)
@click.option("--callback-url", default=None, help="The hub's /webhooks/haravan URL.")
@click.option("--verify-token", default="sim-verify-token", show_default=True)
def simulate_command(host, port, org_id, client_id, client_secret, callback_url, verify_token):
    """Run a simulated Haravan shop (accounts, APIs, webhooks) on HOST:PORT."""
    from connectors.haravan.simulator import HaravanSimulator

    simulator = HaravanSimulator(
        org_id=org_id,
        client_id=client_id,
        client_secret=client_secret,
        callback_url=callback_url,
        verify_token=verify_token,
    )
    click.echo(f"Simulated Haravan shop {org_id} at http://{host}:{port}")
    simulator.serve_forever(host=host, port=port)


def add_commands(cli: click.Group) -> None:
    cli.add_command(haravan_group)
    simulate = cli.commands.get("simulate")
    if simulate is None:
        simulate = click.Group("simulate", help="Run a simulated outside platform on loopback.")
        cli.add_command(simulate)
    simulate.add_command(simulate_command)
