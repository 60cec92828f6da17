"""``hub reports rebuild|refresh`` and ``hub export report|vouchers|ledger|orders``."""

from __future__ import annotations

import sys
from datetime import date
from datetime import datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from hub.core import current_hub
from hub.errors import HubError
from hub.models import Merchant
from hub.reports import rollups
from hub.reports.catalogue import REPORTS
from hub.reports.downloads import Download
from hub.reports.downloads import list_download
from hub.reports.downloads import report_download
from hub.reports.exports import FORMATS
from hub.reports.exports import LISTS
from hub.reports.jobs import refresh_all


def _day(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a day: write YYYY-MM-DD") from None


def _merchant(merchant_id: int) -> None:
    with current_hub().db.session() as session:
        if session.get(Merchant, merchant_id) is None:
            raise click.ClickException(
                f"merchant {merchant_id} not found: `hub merchants list` shows them"
            )


@click.group("reports")
def reports_group() -> None:
    """Keep the reports' daily rollups."""


@reports_group.command("rebuild")
@click.option("--merchant", "merchant_id", required=True, type=int)
@click.option("--since", callback=_day, help="First day to recompute (YYYY-MM-DD, local).")
@with_appcontext
def rebuild_command(merchant_id: int, since: date | None) -> None:
    """Recompute a merchant's rollups from the raw tables (all days, or from --since)."""
    _merchant(merchant_id)
    with current_hub().db.transaction() as session:
        rows = rollups.rebuild(session, merchant_id, since)
    click.echo(f"merchant {merchant_id}: {rows} rollup rows written")


@reports_group.command("refresh")
@with_appcontext
def refresh_command() -> None:
    """Recompute every merchant's days marked stale (the periodic job, now)."""
    click.echo(f"{refresh_all()} days recomputed")


@click.group("export")
def export_group() -> None:
    """Export a report or a raw list to CSV or XLSX."""


def _options(command):
    command = click.option("--merchant", "merchant_id", required=True, type=int)(command)
    command = click.option("--from", "first", callback=_day, help="First day (YYYY-MM-DD).")(
        command
    )
    command = click.option("--to", "last", callback=_day, help="Last day (default: today).")(
        command
    )
    command = click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True
    )(command)
    return click.option(
        "--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
        help="File to write (default: the export's own name, here).",
    )(command)  # fmt: skip


def _write(make, output: Path | None) -> None:
    """Write an export with a progress bar over its rows."""
    bar = click.progressbar(length=1, label="exporting", file=sys.stderr)
    try:
        download: Download = make(lambda: bar.update(1))
    except HubError as error:
        raise click.ClickException(error.message) from None
    bar.length = max(download.rows, 1)
    target = output or Path(download.filename)
    with bar, target.open("wb") as out:
        for chunk in download.chunks:
            out.write(chunk)
    click.echo(f"{target}: {download.rows} rows")


@export_group.command("report")
@click.argument("name", type=click.Choice(list(REPORTS)))
@_options
@with_appcontext
def export_report(name: str, merchant_id: int, first, last, fmt: str, output) -> None:
    """Export one report (its totals beside the previous period's, its series)."""
    _merchant(merchant_id)
    now = datetime.now().astimezone()
    _write(
        lambda on_row: report_download(
            current_hub(), merchant_id, name, fmt, first, last, now=now, on_row=on_row
        ),
        output,
    )


def _list_command(what: str) -> click.Command:
    @_options
    @with_appcontext
    def command(merchant_id: int, first, last, fmt: str, output) -> None:
        _merchant(merchant_id)
        _write(
            lambda on_row: list_download(
                current_hub(), merchant_id, what, fmt, first, last, on_row=on_row
            ),
            output,
        )

    command.__doc__ = f"Export every {what} row of a period (default: the last 30 days)."
    return click.command(what)(command)


for _what in LISTS:
    export_group.add_command(_list_command(_what))
