"""``hub serve``, ``hub worker`` and ``hub cron``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from hub.core import current_hub


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Run the hub's web server (development; use gunicorn hub.wsgi:app in production).

    On the embedded SQLite default the schema is created or upgraded first.
    """
    hub = current_hub()
    if hub.db.is_sqlite:
        from hub.migrate import upgrade

        upgrade(hub)
    mode = "inline jobs" if hub.jobs.is_inline else "rq jobs on Redis"
    click.echo(f"Storefront Hub on http://{host}:{port}/  ({hub.db.engine.dialect.name}, {mode})")
    current_app.run(host=host, port=port, threaded=True, use_reloader=False)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--simple", is_flag=True, help="Run jobs in-process, without forking.")
@click.option(
    "--cron/--no-cron",
    default=True,
    show_default=True,
    help="Also run the periodic-job scheduler in this process.",
)
@with_appcontext
def worker(burst: bool, simple: bool, cron: bool) -> None:
    """Run an rq worker on every hub queue, with the retry scheduler."""
    hub = current_hub()
    if hub.jobs.is_inline:
        raise click.ClickException("HUB_REDIS_URL is not set: jobs run inline, no worker needed")
    from hub.worker import work

    work(hub, burst=burst, simple=simple, cron=cron)


@click.command("cron")
@with_appcontext
def cron_command() -> None:
    """Run only the periodic-job scheduler (one per deployment)."""
    hub = current_hub()
    if hub.jobs.is_inline:
        raise click.ClickException("HUB_REDIS_URL is not set: there is no queue to schedule on")
    from hub.worker import make_cron

    make_cron(hub).start()
