"""``hub pos``: make and revoke POS keys from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hub import Connection
from hub import current_hub
from hub import hub_errors_as_click


@click.group("pos")
def pos_group() -> None:
    """POS connections: keys for tills and cashier pages."""


def _merchant_of(connection_id: int) -> int:
    with current_hub().db.session() as session:
        connection = session.get(Connection, connection_id)
    if connection is None:
        raise click.ClickException(f"no connection {connection_id}")
    return connection.merchant_id


@pos_group.command("issue-key")
@click.argument("connection_id", type=int)
@click.option("--name", default="", help="Which till or tablet the key is for.")
@with_appcontext
def issue(connection_id: int, name: str) -> None:
    """Make a key for CONNECTION_ID's tills and print it (it is shown only once)."""
    from connectors.pos.keys import issue_key

    with hub_errors_as_click(), current_hub().db.transaction() as session:
        issued = issue_key(
            session, _merchant_of(connection_id), connection_id, name=name, actor="cli"
        )
    click.echo(issued.key)


@pos_group.command("revoke-key")
@click.argument("connection_id", type=int)
@click.argument("key_id", type=int)
@with_appcontext
def revoke(connection_id: int, key_id: int) -> None:
    """Revoke key KEY_ID of CONNECTION_ID; tills using it get 401 at once."""
    from connectors.pos.keys import revoke_key

    with hub_errors_as_click(), current_hub().db.transaction() as session:
        revoke_key(session, _merchant_of(connection_id), connection_id, key_id, actor="cli")
    click.echo(f"revoked key {key_id}")
