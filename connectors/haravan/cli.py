"""``hub haravan backfill|setup|reconcile CONNECTION_ID`` and ``hub simulate haravan``."""

from __future__ import annotations

import click

from hub import add_store_commands
from hub import simulate_command
from hub import store_commands
from hub import store_operations


def _simulator(
    org_id: str, client_id: str, client_secret: str, callback_url: str | None, verify_token: str
):
    from connectors.haravan.simulator import HaravanSimulator

    simulator = HaravanSimulator(
        org_id=org_id,
        client_id=client_id,
        client_secret=client_secret,
        callback_url=callback_url,
        verify_token=verify_token,
    )
    return simulator, f"Haravan shop {org_id}"


haravan_group = store_commands(
    "haravan",
    "Haravan shops: history import, setup, reconciliation.",
    store_operations("connectors.haravan"),
    noun="shop",
    subscriptions="webhook topics",
)

simulate_haravan = simulate_command(
    "haravan",
    "Run a simulated Haravan shop (accounts, APIs, webhooks) on HOST:PORT.",
    port=8702,
    options=[
        click.Option(["--org-id"], default="1000114691", show_default=True),
        click.Option(["--client-id"], default="sim-client-id", show_default=True),
        click.Option(["--client-secret"], default="sim-client-secret", show_default=True),
        click.Option(["--callback-url"], default=None, help="The hub's /webhooks/haravan URL."),
        click.Option(["--verify-token"], default="sim-verify-token", show_default=True),
    ],
    build=_simulator,
)


def add_commands(cli: click.Group) -> None:
    add_store_commands(cli, haravan_group, simulate_haravan)
