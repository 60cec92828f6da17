"""``hub shopify backfill|setup|reconcile CONNECTION_ID`` and ``hub simulate shopify``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hub import HubError
from hub import current_hub


@click.group("shopify")
def shopify_group() -> None:
    """Shopify stores: history import, setup, reconciliation."""


@shopify_group.command("backfill")
@click.argument("connection_id", type=int)
@click.option("--restart", is_flag=True, help="Start over instead of resuming.")
@with_appcontext
def backfill_command(connection_id: int, restart: bool) -> None:
    """Import the store's customers and order history, resuming where a run stopped."""
    from connectors.shopify.sync import backfill
    from connectors.shopify.sync import totals

    hub = current_hub()
    try:
        total = totals(hub, connection_id)
        if total is None:
            raise click.ClickException(f"shopify connection {connection_id} is not active")
        with click.progressbar(length=total, label="Importing customers and orders") as bar:
            state = backfill(hub, connection_id, progress=bar.update, restart=restart)
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{state.get('done', 0)} records imported; phase {state.get('phase')}")


@shopify_group.command("setup")
@click.argument("connection_id", type=int)
@with_appcontext
def setup_command(connection_id: int) -> None:
    """Subscribe the store's webhooks and add the widget now."""
    from connectors.shopify.setup import setup_connection

    try:
        click.echo(setup_connection(connection_id))
    except HubError as exc:
        raise click.ClickException(exc.message) from None


@shopify_group.command("reconcile")
@click.argument("connection_id", type=int)
@click.option("--hours", type=int, default=48, show_default=True)
@with_appcontext
def reconcile_command(connection_id: int, hours: int) -> None:
    """Apply orders updated in the last HOURS and restore missing webhooks."""
    from connectors.shopify.sync import reconcile_connection

    try:
        click.echo(reconcile_connection(connection_id, window_hours=hours))
    except HubError as exc:
        raise click.ClickException(exc.message) from None


@click.command("shopify")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8701, show_default=True, type=int)
@click.option("--shop", default="hoa-mai.myshopify.com", show_default=True)
@click.option("--api-key", default="sim-api-key", show_default=True)
@click.option("--api-secret", default="sim-api-secret", show_default=True)
@click.option("--compliance-url", default=None, help="The hub's /webhooks/shopify URL.")
def simulate_command(host, port, shop, api_key, api_secret, compliance_url) -> None:
    """Run a simulated Shopify store on HOST:PORT until interrupted."""
    from connectors.shopify.simulator import ShopifySimulator

    simulator = ShopifySimulator(
        shop=shop, api_key=api_key, api_secret=api_secret, compliance_url=compliance_url
    )
    click.echo(f"Simulated Shopify store {shop} at http://{host}:{port}")
    simulator.serve_forever(host=host, port=port)


def add_commands(cli: click.Group) -> None:
    cli.add_command(shopify_group)
    simulate = cli.commands.get("simulate")
    if simulate is None:
        simulate = click.Group("simulate", help="Run a simulated outside platform on loopback.")
        cli.add_command(simulate)
    simulate.add_command(simulate_command)
