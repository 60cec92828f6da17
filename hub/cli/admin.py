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
from hub.merchants.staff import create_staff_user
from hub.merchants.staff import issue_link
from hub.models import Merchant
from hub.pluginmanager import describe_plugins

#: The owner's email when none is given: the owner changes nothing by it, it is a sign-in name.
OWNER_DOMAIN = "hub.invalid"


@click.group("merchants")
def merchants() -> None:
    """Create and list merchants."""


@merchants.command("create")
@click.argument("name")
@click.option("--currency", default="VND", show_default=True)
@click.option("--timezone", "tz", default="Asia/Ho_Chi_Minh", show_default=True)
@click.option("--locale", default="vi", show_default=True, type=click.Choice(["vi", "en"]))
@click.option("--owner-email", default=None, help="The owner's sign-in email for the console.")
@click.option("--json", "as_json", is_flag=True, help="Print the id, first key and link as JSON.")
@with_appcontext
def create_merchant_command(
    name: str, currency: str, tz: str, locale: str, owner_email: str | None, as_json: bool
):
    """Create a merchant, its first API key (shown once) and its owner's sign-in link."""
    hub = current_hub()
    try:
        currency = check_currency(currency)
    except HubError as exc:
        raise SettingsError(exc.message) from None
    try:
        with hub.db.transaction() as session:
            merchant = create_merchant(session, name, currency=currency, timezone=tz, locale=locale)
            key = create_api_key(session, merchant.id, name="first key")
            email = owner_email or f"owner-{merchant.id}@{OWNER_DOMAIN}"
            owner = create_staff_user(session, merchant.id, email, "owner", actor="cli")
            link = console_link(hub, issue_link(session, owner, "sign_in"))
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "merchant_id": merchant.id,
                    "api_key": key.secret,
                    "owner_email": owner.email,
                    "sign_in_link": link,
                }
            )
        )
    else:
        click.echo(f"merchant {merchant.id} created: {merchant.name}")
        click.echo(f"API key (shown once, keep it safe): {key.secret}")
        click.echo(f"Console sign-in for {owner.email} (works once, 2 days): {link}")


@merchants.command("list")
@with_appcontext
def list_merchants() -> None:
    """List merchants."""
    with current_hub().db.session() as session:
        for m in session.scalars(select(Merchant).order_by(Merchant.id)):
            click.echo(f"{m.id}\t{m.name}\t{m.currency}\t{m.timezone}\t{m.locale}")


def console_link(hub, token: str) -> str:
    """A one-time link's URL on this hub (``HUB_PUBLIC_URL``, else the local address)."""
    base = (hub.config.get("HUB_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/console/link/{token}"


@click.group("staff")
def staff() -> None:
    """Console users: sign-in and password reset links."""


@staff.command("reset-link")
@click.argument("email")
@with_appcontext
def reset_link(email: str) -> None:
    """Print a one-time link with which the user of EMAIL chooses a new password."""
    from hub.models import StaffUser
    from hub.phones import normalize_email

    hub = current_hub()
    try:
        address = normalize_email(email)
        with hub.db.transaction() as session:
            user = session.scalars(select(StaffUser).where(StaffUser.email == address)).first()
            if user is None:
                raise click.ClickException(f"no console user has the email {email!r}")
            link = console_link(hub, issue_link(session, user, "reset"))
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Password reset link for {address} (works once, 2 hours): {link}")


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
