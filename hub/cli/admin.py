"""``hub merchants``, ``hub api-keys`` and ``hub plugins``."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from hub.cli.group import SettingsError
from hub.core import current_hub
from hub.currencies import check_currency
from hub.errors import HubError
from hub.merchants.accounts import create_api_key
from hub.merchants.accounts import create_merchant
from hub.merchants.accounts import revoke_api_key
from hub.models import Merchant
from hub.pluginmanager import describe_plugins


@click.group("merchants")
def merchants() -> None:
    """Create and list merchants."""


@merchants.command("create")
@click.argument("name")
@click.option("--currency", default="VND", show_default=True)
@click.option("--timezone", "tz", default="Asia/Ho_Chi_Minh", show_default=True)
@click.option("--locale", default="vi", show_default=True, type=click.Choice(["vi", "en"]))
@click.option("--json", "as_json", is_flag=True, help="Print the id and first key as JSON.")
@with_appcontext
def create_merchant_command(name: str, currency: str, tz: str, locale: str, as_json: bool):
    """Create a merchant and its first API key (shown once)."""
    hub = current_hub()
    try:
        currency = check_currency(currency)
    except HubError as exc:
        raise SettingsError(exc.message) from None
    try:
        with hub.db.transaction() as session:
            merchant = create_merchant(session, name, currency=currency, timezone=tz, locale=locale)
            key = create_api_key(session, merchant.id, name="first key")
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(json.dumps({"merchant_id": merchant.id, "api_key": key.secret}))
    else:
        click.echo(f"merchant {merchant.id} created: {merchant.name}")
        click.echo(f"API key (shown once, keep it safe): {key.secret}")


@merchants.command("list")
@with_appcontext
def list_merchants() -> None:
    """List merchants."""
    with current_hub().db.session() as session:
        for m in session.scalars(select(Merchant).order_by(Merchant.id)):
            click.echo(f"{m.id}\t{m.name}\t{m.currency}\t{m.timezone}\t{m.locale}")


@click.group("api-keys")
def api_keys() -> None:
    """Create and revoke API keys."""


@api_keys.command("create")
@click.option("--merchant", "merchant_id", required=True, type=int)
@click.option("--name", default="")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def create_key(merchant_id: int, name: str, as_json: bool) -> None:
    """Issue a new API key for a merchant (shown once)."""
    try:
        with current_hub().db.transaction() as session:
            key = create_api_key(session, merchant_id, name=name)
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(
            json.dumps({"key_id": key.id, "merchant_id": merchant_id, "api_key": key.secret})
        )
    else:
        click.echo(f"key {key.id}: {key.secret}")


@api_keys.command("revoke")
@click.argument("key")
@with_appcontext
def revoke_key(key: str) -> None:
    """Revoke a key by its id or its prefix (the part after ``hub_``)."""
    try:
        with current_hub().db.transaction() as session:
            revoked = revoke_api_key(session, key)
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"key {revoked.id} ({revoked.prefix}) revoked")


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def plugins_command(as_json: bool) -> None:
    """List loaded plugins with their versions and the hooks they implement."""
    rows = describe_plugins(current_hub().pm)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['name']} ({row['distribution']} {row['version']})")
        click.echo(f"    hooks: {', '.join(row['hooks']) or '-'}")
