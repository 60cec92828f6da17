"""``hub serve``, ``hub worker`` and ``hub cron``."""

from __future__ import annotations

import signal

import click
from flask import current_app
from flask.cli import with_appcontext

from hub.cli.group import SettingsError
from hub.cli.group import require_ready
from hub.core import current_hub


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Run the hub's web server (development; use gunicorn hub.wsgi:app in production).

    On the embedded SQLite default the schema is created or upgraded first.
    Without HUB_REDIS_URL the background jobs and the periodic schedule run in
    this process too, from the database's job table.
    """
    hub = current_hub()
    if hub.db.is_sqlite:
        from hub.migrate import upgrade

        upgrade(hub)
    require_ready(hub)
    mode = "embedded job runner" if hub.jobs.is_inline else "rq jobs on Redis"
    click.echo(f"Storefront Hub on http://{host}:{port}/  ({hub.db.engine.dialect.name}, {mode})")
    _run(host, port)


def _run(host: str, port: int) -> None:
    """Serve the app; without Redis, with the embedded runner beside it until the server stops."""
    # Flask's app.run() refuses to start inside a CLI command; serve with werkzeug directly.
    from werkzeug.serving import run_simple

    from hub.runner import start_embedded

    _stop_on_signals()
    runner = start_embedded(current_hub())
    try:
        run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)
    finally:
        if runner is not None:
            runner.stop()


def _stop_on_signals() -> None:
    """Stop serving on Ctrl-C and on SIGTERM (systemd, ``docker stop``) alike.

    Python raises KeyboardInterrupt on SIGINT only when the signal was not
    ignored when it started, and a process started by one that ignores SIGINT
    inherits that; so the handler is set here, whatever the parent did.
    """

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stop)


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
        raise SettingsError(
            "HUB_REDIS_URL is not set: hub serve runs the jobs and the schedule itself "
            "(the embedded runner); no worker needed"
        )
    require_ready(hub, redis=True)
    from hub.worker import work

    work(hub, burst=burst, simple=simple, cron=cron)


@click.command("cron")
@with_appcontext
def cron_command() -> None:
    """Run only the periodic-job scheduler (one per deployment)."""
    hub = current_hub()
    if hub.jobs.is_inline:
        raise SettingsError(
            "HUB_REDIS_URL is not set: hub serve runs the schedule itself; no cron needed"
        )
    require_ready(hub, redis=True)
    from hub.worker import make_cron

    make_cron(hub).start()


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--members", default=300, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--no-serve", is_flag=True, help="Create the demo shop, print its URLs and stop.")
@with_appcontext
def demo(host: str, port: int, members: int, no_serve: bool) -> None:
    """Create a demo shop (program, tiers, rewards, members, orders) and serve it."""
    from hub.demo import bp
    from hub.demo import demo_counter
    from hub.demo import demo_owner_link
    from hub.demo import seed_demo
    from hub.migrate import upgrade

    hub = current_hub()
    upgrade(hub)
    with click.progressbar(length=members, label="Creating demo members") as bar:
        shop = seed_demo(hub, members=members, progress=bar.update)
    base = f"http://{host}:{port}"
    click.echo("")
    if shop.created:
        click.echo(f"Demo shop: {shop.merchant_id} (created)")
    else:
        click.echo(
            f"Demo shop: {shop.merchant_id} (made by an earlier run; its data is kept; "
            "a new sign-in link and till key below)"
        )
    if shop.api_key:
        click.echo(f"API key (shown once): {shop.api_key}")
    else:
        click.echo(
            f"API key: the first run showed it once; a new one: "
            f"hub api-keys create --merchant {shop.merchant_id}"
        )
    click.echo(f"Storefront as a guest:   {base}/demo/store")
    click.echo(f"Storefront as a member:  {base}/demo/store?customer=demo-1")
    click.echo(f"In English:              {base}/demo/store?customer=demo-1&locale=en")
    click.echo(f"API reference:           {base}/api/v1/docs")
    token = demo_owner_link(hub, shop.merchant_id)
    click.echo(f"Console:                 {base}/console/")
    click.echo(
        f"Console as the owner:    {base}/console/link/{token} (works once; run again for another)"
    )
    counter = demo_counter(hub, shop.merchant_id)
    if counter is not None:
        click.echo(f"Cashier page:            {base}{counter.cashier_path}")
        click.echo(f"Till key:                {counter.till_key} (the run before's is revoked)")
    if no_serve:
        return
    current_app.register_blueprint(bp)
    _run(host, port)
