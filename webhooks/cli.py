"""``hub webhooks``: failed deliveries, hand replays and the sweep."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from hub import HubError
from hub import current_hub
from webhooks import outbound
from webhooks.models import WebhookDelivery
from webhooks.sweep import failed_entries
from webhooks.sweep import replay_entry
from webhooks.sweep import run_sweep


@click.group("webhooks")
def webhooks_group() -> None:
    """Inspect and replay webhooks that failed for good."""


@webhooks_group.command("failed")
@click.option("--outbound", "show_outbound", is_flag=True, help="List outbound deliveries.")
@click.option("--limit", default=100, show_default=True)
@with_appcontext
def failed(show_outbound: bool, limit: int) -> None:
    """List failed inbound deliveries (or outbound ones) with the connector and reason."""
    hub = current_hub()
    if show_outbound:
        with hub.db.session() as session:
            rows = session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.status == "failed")
                .order_by(WebhookDelivery.id.desc())
                .limit(limit)
            ).all()
        for row in rows:
            click.echo(
                f"{row.id}\tendpoint {row.endpoint_id}\t{row.event_type}\t{row.message_id}\t"
                f"{row.last_status_code or '-'}\t{row.last_error or '-'}"
            )
        return
    for entry in failed_entries(hub, limit):
        click.echo(
            f"{entry.id}\t{entry.connector}\tconnection {entry.connection_id}\t"
            f"{entry.topic or '-'}\t{entry.delivery_id}\t{entry.error or '-'}"
        )


@webhooks_group.command("replay")
@click.argument("entry_id", type=int)
@click.option("--outbound", "is_outbound", is_flag=True, help="ID is an outbound delivery.")
@with_appcontext
def replay(entry_id: int, is_outbound: bool) -> None:
    """Process one inbound delivery again (or attempt one outbound delivery again)."""
    hub = current_hub()
    try:
        if is_outbound:
            with hub.db.session() as session:
                delivery = session.get(WebhookDelivery, entry_id)
                merchant_id = delivery.merchant_id if delivery else -1
            outbound.replay(hub, merchant_id, entry_id)
            click.echo(f"delivery {entry_id} queued for another attempt")
            return
        result = replay_entry(hub, entry_id)
    except HubError as exc:
        raise click.ClickException(exc.message) from None
    state = "queued" if result["queued"] else "left for the sweep (queue unreachable)"
    click.echo(f"inbox row {entry_id} ({result['connector']}) {state}")


@webhooks_group.command("sweep")
@click.option("--older-than", default=30, show_default=True, help="Seconds a row must wait.")
@with_appcontext
def sweep(older_than: int) -> None:
    """Enqueue pending inbox rows and due deliveries that have no job (normally periodic)."""
    counts = run_sweep(older_than_seconds=older_than)
    click.echo(f"enqueued {counts['inbox']} inbox rows and {counts['deliveries']} deliveries")
