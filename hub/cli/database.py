"""``hub db``: schema migrations."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hub.core import current_hub


@click.group("db")
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@with_appcontext
def upgrade_command(revision: str) -> None:
    """Apply every pending migration (safe to run again)."""
    from hub.migrate import current_heads
    from hub.migrate import upgrade

    hub = current_hub()
    upgrade(hub, revision)
    click.echo(f"database at {', '.join(sorted(current_heads(hub))) or 'base'}")


@db.command("current")
@with_appcontext
def current_command() -> None:
    """Print the revisions the database is at."""
    from hub.migrate import current_heads

    click.echo(", ".join(sorted(current_heads(current_hub()))) or "base (empty database)")


@db.command("check")
@with_appcontext
def check_command() -> None:
    """Check the ledger: every member's balance equals the sum of their entries.

    Prints each member where it does not hold and exits with status 1; run it
    after restoring a backup.
    """
    from hub.points.ledger_check import check_ledger

    with current_hub().db.session() as session:
        report = check_ledger(session)
    for difference in report.differences:
        click.echo(difference.describe())
    if report.differences:
        click.echo(
            f"{len(report.differences)} of {report.members} members do not match their ledger",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"ledger consistent: {report.members} members checked")
