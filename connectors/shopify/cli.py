"""``hub shopify backfill|setup|reconcile CONNECTION_ID`` and ``hub simulate shopify``."""

from __future__ import annotations

import click

from hub import add_store_commands
from hub import simulate_command
from hub import store_commands
from hub import store_operations


def _simulator(shop: str, api_key: str, api_secret: str, compliance_url: str | None):
    from connectors.shopify.simulator import ShopifySimulator

    simulator = ShopifySimulator(
        shop=shop, api_key=api_key, api_secret=api_secret, compliance_url=compliance_url
    )
    return simulator, f"Shopify store {shop}"


shopify_group = store_commands(
    "shopify",
    "Shopify stores: history import, setup, reconciliation.",
    store_operations("connectors.shopify"),
)

simulate_shopify = simulate_command(
    "shopify",
    "Run a simulated Shopify store on HOST:PORT until interrupted.",
    port=8701,
    options=[
        click.Option(["--shop"], default="hoa-mai.myshopify.com", show_default=True),
        click.Option(["--api-key"], default="sim-api-key", show_default=True),
        click.Option(["--api-secret"], default="sim-api-secret", show_default=True),
        click.Option(["--compliance-url"], default=None, help="The hub's /webhooks/shopify URL."),
    ],
    build=_simulator,
)


def add_commands(cli: click.Group) -> None:
    add_store_commands(cli, shopify_group, simulate_shopify)
