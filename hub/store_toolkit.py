"""The command-line half of a store connector: ``hub NAME backfill|setup|reconcile`` and
``hub simulate NAME``.

A store connector (Shopify, Haravan, a third platform) supplies its operations and the
options of its simulator; the commands, their arguments, the progress bar and the way a
``HubError`` becomes a clean one-line failure are the same for every store.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from typing import Protocol

import click
from flask.cli import with_appcontext

from hub.core import Hub
from hub.core import current_hub
from hub.errors import HubError


class Backfill(Protocol):
    def __call__(
        self, hub: Hub, connection_id: int, *, progress: Callable[[int], Any], restart: bool
    ) -> dict[str, Any]: ...


class Reconcile(Protocol):
    def __call__(self, connection_id: int, *, window_hours: int) -> Any: ...


class Simulator(Protocol):
    def serve_forever(self, host: str, port: int) -> None: ...


@dataclass(frozen=True)
class StoreOperations:
    """What a store connector does on the command line.

    ``totals`` answers how many records a backfill will import, or ``None`` when the
    connection is not an active one of this connector; ``setup`` and ``reconcile`` answer
    something printable (a summary dict or text).
    """

    totals: Callable[[Hub, int], int | None]
    backfill: Backfill
    setup: Callable[[int], Any]
    reconcile: Reconcile


def store_operations(package: str) -> Callable[[], StoreOperations]:
    """The operations of the store connector ``package``, imported when first asked for.

    The connector's ``sync`` module supplies ``totals``, ``backfill`` and
    ``reconcile_connection``, its ``setup`` module ``setup_connection``.
    """

    def load() -> StoreOperations:
        sync = importlib.import_module(f"{package}.sync")
        setup = importlib.import_module(f"{package}.setup")
        return StoreOperations(
            totals=sync.totals,
            backfill=sync.backfill,
            setup=setup.setup_connection,
            reconcile=sync.reconcile_connection,
        )

    return load


@contextmanager
def hub_errors_as_click() -> Iterator[None]:
    """Turn a ``HubError`` into a click failure: its message on one line, exit status 1."""
    try:
        yield
    except HubError as exc:
        raise click.ClickException(exc.message) from None


def store_commands(
    name: str,
    help: str,
    operations: Callable[[], StoreOperations],
    *,
    noun: str = "store",
    subscriptions: str = "webhooks",
) -> click.Group:
    """The ``hub NAME`` group with ``backfill``, ``setup`` and ``reconcile``.

    ``operations`` is called only when a command runs, so the connector's sync code is
    imported by the command that needs it and not by every ``hub`` invocation. ``noun``
    names the merchant's store in help texts ("store", "shop") and ``subscriptions`` what
    setup subscribes ("webhooks", "webhook topics").
    """
    group = click.Group(name, help=help)

    @group.command("backfill", help=_backfill_help(noun))
    @click.argument("connection_id", type=int)
    @click.option("--restart", is_flag=True, help="Start over instead of resuming.")
    @with_appcontext
    def backfill_command(connection_id: int, restart: bool) -> None:
        chosen = operations()
        hub = current_hub()
        with hub_errors_as_click():
            total = chosen.totals(hub, connection_id)
            if total is None:
                raise click.ClickException(f"{name} connection {connection_id} is not active")
            with click.progressbar(length=total, label="Importing customers and orders") as bar:
                state = chosen.backfill(hub, connection_id, progress=bar.update, restart=restart)
        click.echo(f"{state.get('done', 0)} records imported; phase {state.get('phase')}")

    @group.command("setup", help=f"Subscribe the {noun}'s {subscriptions} and add the widget now.")
    @click.argument("connection_id", type=int)
    @with_appcontext
    def setup_command(connection_id: int) -> None:
        with hub_errors_as_click():
            click.echo(operations().setup(connection_id))

    @group.command(
        "reconcile",
        help=f"Apply orders updated in the last HOURS and restore missing {subscriptions}.",
    )
    @click.argument("connection_id", type=int)
    @click.option("--hours", type=int, default=48, show_default=True)
    @with_appcontext
    def reconcile_command(connection_id: int, hours: int) -> None:
        with hub_errors_as_click():
            click.echo(operations().reconcile(connection_id, window_hours=hours))

    return group


def _backfill_help(noun: str) -> str:
    return f"Import the {noun}'s customers and order history, resuming where a run stopped."


def simulate_command(
    name: str,
    help: str,
    *,
    port: int,
    options: Sequence[click.Option],
    build: Callable[..., tuple[Simulator, str]],
) -> click.Command:
    """The ``hub simulate NAME`` command: ``--host``, ``--port`` and the platform's options.

    ``build`` takes the platform options as keyword arguments and answers the simulator
    and how to name it in the banner ("Shopify store hoa-mai.myshopify.com").
    """

    def run(host: str, port: int, **platform: Any) -> None:
        simulator, label = build(**platform)
        click.echo(f"Simulated {label} at http://{host}:{port}")
        simulator.serve_forever(host=host, port=port)

    params: list[click.Parameter] = [
        click.Option(["--host"], default="127.0.0.1", show_default=True),
        click.Option(["--port"], default=port, show_default=True, type=int),
        *options,
    ]
    return click.Command(name, callback=run, params=params, help=help)


def add_store_commands(
    cli: click.Group, group: click.Group, simulate: click.Command | None = None
) -> None:
    """Add a connector's group to ``cli`` and its simulator under ``hub simulate``.

    The ``simulate`` group is made by whichever connector registers first; the others
    join it.
    """
    cli.add_command(group)
    if simulate is None:
        return
    simulators = cli.commands.get("simulate")
    if not isinstance(simulators, click.Group):
        simulators = click.Group("simulate", help="Run a simulated outside platform on loopback.")
        cli.add_command(simulators)
    simulators.add_command(simulate)
