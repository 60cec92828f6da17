"""The store-connector toolkit's commands: ``hub NAME backfill|setup|reconcile`` and
``hub simulate NAME``, through the real Shopify and Haravan connectors and through a
store whose operations the test supplies."""

from __future__ import annotations

from typing import Any

import click
import pytest

from hub import NotFound
from hub import StoreOperations
from hub import add_store_commands
from hub import simulate_command
from hub import store_commands
from hub import store_operations


class PaperStore:
    """A store connector's operations that remember how they were called."""

    def __init__(self, total: int | None = 3, fail: Exception | None = None) -> None:
        self.total, self.fail = total, fail
        self.calls: list[tuple[str, Any]] = []

    def operations(self) -> StoreOperations:
        return StoreOperations(
            totals=self.totals, backfill=self.backfill, setup=self.setup, reconcile=self.reconcile
        )

    def totals(self, hub: Any, connection_id: int) -> int | None:
        return self.total

    def backfill(self, hub, connection_id, *, progress, restart) -> dict[str, Any]:
        self.calls.append(("backfill", (connection_id, restart)))
        for _ in range(self.total or 0):
            progress(1)
        return {"phase": "done", "done": self.total}

    def setup(self, connection_id: int) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        self.calls.append(("setup", connection_id))
        return {"webhooks_subscribed": 2}

    def reconcile(self, connection_id: int, *, window_hours: int) -> str:
        self.calls.append(("reconcile", (connection_id, window_hours)))
        return f"reconciled {connection_id}"


def paper_group(store: PaperStore) -> click.Group:
    return store_commands("paper", "Paper stores.", store.operations, noun="shop")


def test_backfill_of_a_connection_that_is_not_active_fails_with_one_line(app):
    result = app.test_cli_runner().invoke(args=["shopify", "backfill", "999"])

    assert result.exit_code == 1
    assert "shopify connection 999 is not active" in result.output
    assert "Traceback" not in result.output


def test_setup_and_reconcile_of_a_missing_connection_say_they_skipped(app):
    runner = app.test_cli_runner()

    setup = runner.invoke(args=["haravan", "setup", "999"])
    reconcile = runner.invoke(args=["shopify", "reconcile", "999", "--hours", "2"])

    assert (setup.exit_code, setup.output.strip()) == (0, "{'skipped': True}")
    assert (reconcile.exit_code, reconcile.output.strip()) == (0, "{'skipped': True}")


def test_backfill_reports_what_it_imported_and_passes_restart(app):
    store = PaperStore(total=3)

    result = app.test_cli_runner().invoke(paper_group(store), ["backfill", "7", "--restart"])

    assert result.exit_code == 0, result.output
    assert "3 records imported; phase done" in result.output
    assert store.calls == [("backfill", (7, True))]


def test_reconcile_passes_its_window_in_hours_and_defaults_to_two_days(app):
    store = PaperStore()
    runner = app.test_cli_runner()

    runner.invoke(paper_group(store), ["reconcile", "4", "--hours", "6"])
    result = runner.invoke(paper_group(store), ["reconcile", "5"])

    assert result.output.strip() == "reconciled 5"
    assert store.calls == [("reconcile", (4, 6)), ("reconcile", (5, 48))]


def test_a_hub_error_from_an_operation_is_a_one_line_failure_without_traceback(app):
    store = PaperStore(fail=NotFound("no such shop at the platform"))

    result = app.test_cli_runner().invoke(paper_group(store), ["setup", "1"])

    assert result.exit_code == 1
    assert "Error: no such shop at the platform" in result.output
    assert "Traceback" not in result.output


def test_help_texts_name_the_connectors_store_noun(app):
    result = app.test_cli_runner().invoke(paper_group(PaperStore()), ["setup", "--help"])

    assert "Subscribe the shop's webhooks and add the widget now." in result.output


def test_both_store_simulators_are_listed_under_hub_simulate(app):
    runner = app.test_cli_runner()

    listing = runner.invoke(args=["simulate", "--help"])
    haravan = runner.invoke(args=["simulate", "haravan", "--help"])

    assert "shopify" in listing.output and "haravan" in listing.output
    assert "--verify-token" in haravan.output and "8702" in haravan.output


class PaperSimulator:
    def __init__(self, shop: str) -> None:
        self.shop = shop
        self.served: tuple[str, int] | None = None

    def serve_forever(self, host: str, port: int) -> None:
        self.served = (host, port)


def test_the_simulate_command_serves_what_its_options_build_and_names_it():
    built: list[PaperSimulator] = []

    def build(shop: str) -> tuple[PaperSimulator, str]:
        built.append(PaperSimulator(shop))
        return built[-1], f"paper shop {shop}"

    cli = click.Group("hub")
    add_store_commands(cli, paper_group(PaperStore()))
    add_store_commands(
        cli,
        click.Group("other"),
        simulate_command(
            "paper",
            "Run a paper shop.",
            port=8799,
            options=[click.Option(["--shop"], default="hoa-mai")],
            build=build,
        ),
    )
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["simulate", "paper", "--shop", "lan"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Simulated paper shop lan at http://127.0.0.1:8799"
    assert built[0].shop == "lan" and built[0].served == ("127.0.0.1", 8799)
    assert sorted(cli.commands) == ["other", "paper", "simulate"]


def test_store_operations_are_the_connectors_sync_and_setup_functions():
    from connectors.haravan import setup
    from connectors.haravan import sync

    operations = store_operations("connectors.haravan")()

    assert operations.totals is sync.totals
    assert operations.setup is setup.setup_connection
    assert operations.backfill == sync.SYNC.backfill
    assert operations.reconcile == sync.SYNC.reconcile_connection


def test_store_operations_of_a_package_without_sync_fail_when_first_asked_for():
    load = store_operations("connectors.esms")

    with pytest.raises(ModuleNotFoundError) as raised:
        load()

    assert raised.value.name == "connectors.esms.sync"
