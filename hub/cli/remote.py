"""``hub remote``: a running hub's API from the command line, through ``hub.client``.

The group takes the hub's address and a merchant's API key (``--url`` and
``--key``, or ``HUB_REMOTE_URL`` and ``HUB_REMOTE_KEY``) and needs no local
database: every command is one or a few API calls. ``--json`` prints the
API's answer as JSON; without it, a line per item for people.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import click

from hub.client import ApiError
from hub.client import HubClient
from hub.client import NewMember
from hub.errors import PermanentError
from hub.errors import RetryLater


def _client(ctx: click.Context) -> HubClient:
    return ctx.find_object(HubClient)


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


class RemoteGroup(click.Group):
    """Turns the API's errors and an unreachable hub into one line, exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApiError as exc:
            raise click.ClickException(f"{exc.code} ({exc.status}): {exc.message}") from None
        except (RetryLater, PermanentError) as exc:
            # No answer, or an address or an answer the hub's HTTP client refused.
            raise click.ClickException(f"the hub at {_client(ctx).base_url}: {exc}") from None


@click.group("remote", cls=RemoteGroup)
@click.option("--url", envvar="HUB_REMOTE_URL", required=True, help="The hub's address.")
@click.option("--key", envvar="HUB_REMOTE_KEY", required=True, help="A merchant's API key.")
@click.pass_context
def remote(ctx: click.Context, url: str, key: str) -> None:
    """Work with a running hub through its API (HUB_REMOTE_URL, HUB_REMOTE_KEY)."""
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(
            "give the hub's address with http:// or https://", param_hint="--url"
        )
    ctx.obj = HubClient(url, key)


@remote.command("merchant")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def merchant_command(ctx: click.Context, as_json: bool) -> None:
    """Show the merchant the key belongs to."""
    merchant = _client(ctx).merchant()
    if as_json:
        _echo_json(merchant)
    else:
        click.echo(f"{merchant['id']}  {merchant['name']}  {merchant['currency']}")


@remote.group("members")
def members() -> None:
    """List, show and create members."""


@members.command("list")
@click.option("--q", default=None, help="Name, phone, email or member code contains this.")
@click.option("--phone", default=None)
@click.option("--tag", default=None)
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--all", "every", is_flag=True, help="Every page, not only the first.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def list_members(ctx: click.Context, every: bool, as_json: bool, **filters: Any) -> None:
    """List members, newest first."""
    client = _client(ctx)
    found = client.iter_members(**filters) if every else client.list_members(**filters).data
    for member in found:
        if as_json:
            click.echo(json.dumps(member, ensure_ascii=False, default=_plain))
        else:
            click.echo(_member_line(member))


def _member_line(member: Any) -> str:
    tier = member["tier"]["name"] if member.get("tier") else "-"
    contact = member["phone"] or member["email"] or "-"
    points = member["points"]["available"]
    return f"{member['id']}  {member['code']}  {member['name'] or '-'}  {contact}  {points}  {tier}"


@members.command("show")
@click.argument("member_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show_member(ctx: click.Context, member_id: int, as_json: bool) -> None:
    """Show one member."""
    member = _client(ctx).get_member(member_id)
    if as_json:
        _echo_json(member)
    else:
        click.echo(_member_line(member))


@members.command("create")
@click.option("--phone", default=None)
@click.option("--email", default=None)
@click.option("--name", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def create_member(ctx: click.Context, as_json: bool, **given: str | None) -> None:
    """Create a member from a phone or an email."""
    fields = NewMember(**{k: v for k, v in given.items() if v is not None})  # type: ignore[typeddict-item]
    member = _client(ctx).create_member(fields)
    if as_json:
        _echo_json(member)
    else:
        click.echo(_member_line(member))


@remote.group("points")
def points() -> None:
    """A member's balance and ledger, and adjustments by hand."""


@points.command("show")
@click.argument("member_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show_points(ctx: click.Context, member_id: int, as_json: bool) -> None:
    """Show a member's balance and the latest ledger entries."""
    client = _client(ctx)
    balance = client.points(member_id)
    entries = client.ledger(member_id, limit=10).data
    if as_json:
        _echo_json({"points": balance, "ledger": entries})
        return
    click.echo(f"available {balance['available']}, pending {balance['pending']}")
    for entry in entries:
        click.echo(f"{entry['created_at']}  {entry['points']:+d}  {entry['kind']}  {entry['note']}")


@points.command("adjust")
@click.argument("member_id", type=int)
@click.argument("amount", type=int)
@click.option("--reason", required=True, help="Shown to staff in the member's ledger.")
@click.option("--idempotency-key", default=None, help="Makes a repeated command safe.")
@click.pass_context
def adjust(
    ctx: click.Context, member_id: int, amount: int, reason: str, idempotency_key: str | None
) -> None:
    """Add points to a member (a negative AMOUNT takes them; put it after --)."""
    entry = _client(ctx).adjust_points(member_id, amount, reason, idempotency_key=idempotency_key)
    click.echo(f"entry {entry['id']}: {entry['points']:+d} points")


@remote.group("rewards")
def rewards() -> None:
    """The rewards members spend points on, and redeeming one."""


@rewards.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_rewards(ctx: click.Context, as_json: bool) -> None:
    """List the active rewards."""
    for reward in _client(ctx).list_rewards(active=True, limit=200).data:
        if as_json:
            click.echo(json.dumps(reward, ensure_ascii=False, default=_plain))
        else:
            click.echo(f"{reward['id']}  {reward['name']}  {reward['points_cost']} points")


@rewards.command("redeem")
@click.argument("member_id", type=int)
@click.argument("reward_id", type=int)
@click.option("--idempotency-key", default=None, help="Makes a repeated command safe.")
@click.pass_context
def redeem(ctx: click.Context, member_id: int, reward_id: int, idempotency_key: str | None) -> None:
    """Spend a member's points on a reward; prints the voucher's code."""
    done = _client(ctx).redeem(member_id, reward_id, idempotency_key=idempotency_key)
    click.echo(
        f"voucher {done['voucher']['code']}: {done['points_spent']} points spent, "
        f"{done['balance']} left"
    )
