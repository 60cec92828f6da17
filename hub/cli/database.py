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
