"""``hub import members FILE.csv --merchant ID``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from hub.cli.group import SettingsError
from hub.core import current_hub
from hub.errors import HubError
from hub.importer import EncodingProblem
from hub.importer import import_members
from hub.models import Merchant


@click.group("import")
def import_group() -> None:
    """Import data from files."""


@import_group.command("members")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--merchant", "merchant_id", required=True, type=int)
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write rejected rows (default: FILE.errors.csv).",
)
@click.option(
    "--encoding",
    default="utf-8",
    show_default=True,
    help="The file's encoding: utf-8 (with or without BOM), cp1258 (Vietnamese Windows "
    "Excel), cp1252 (Western Windows Excel).",
)
@with_appcontext
def import_members_command(
    file: Path, merchant_id: int, errors_path: Path | None, encoding: str
) -> None:
    """Import members (phone, email, name, birthday, opening points, total spent).

    Good rows are imported, bad rows go to an error report with the reason;
    running the same file again changes nothing.
    """
    hub = current_hub()
    with hub.db.session() as session:
        if session.get(Merchant, merchant_id) is None:
            raise click.ClickException(f"merchant {merchant_id} does not exist")
    bar = _Bar()
    try:
        report = import_members(
            hub,
            merchant_id,
            file,
            errors_path=errors_path or file.with_suffix(".errors.csv"),
            progress=bar.update,
            encoding=encoding,
        )
    except EncodingProblem as exc:
        raise SettingsError(exc.message) from None
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        bar.close()
    click.echo(
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.rejected} rejected; {report.points_credited} opening points credited"
    )
    if report.errors_path is not None:
        click.echo(f"rejected rows and reasons: {report.errors_path}")


class _Bar:
    """A progress bar shown once the file is checked and its rows counted."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._done = 0

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="Importing members")
            self._bar.__enter__()
        self._bar.update(done - self._done)
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
