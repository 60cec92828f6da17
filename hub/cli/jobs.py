"""``hub jobs``: the failed-job registry and replays."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from rq.job import Job

from hub.core import current_hub
from hub.jobs import QUEUES


def _require_redis():
    hub = current_hub()
    if hub.jobs.is_inline:
        raise click.ClickException("HUB_REDIS_URL is not set: inline jobs keep no registry")
    return hub


@click.group("jobs")
def jobs_group() -> None:
    """Inspect and replay failed jobs."""


@jobs_group.command("failed")
@with_appcontext
def failed() -> None:
    """List failed jobs with the plugin and reason."""
    hub = _require_redis()
    shown = 0
    for name in QUEUES:
        queue = hub.jobs.queue(name)
        ids = queue.failed_job_registry.get_job_ids()
        for job in Job.fetch_many(ids, connection=hub.jobs.redis):
            if job is None:
                continue
            shown += 1
            meta = job.meta or {}
            click.echo(
                f"{job.id}\t{name}\t{job.description}\t{meta.get('plugin', '-')}\t"
                f"{meta.get('last_error', '-')}"
            )
    if not shown:
        click.echo("no failed jobs")


@jobs_group.command("replay")
@click.argument("job_id")
@with_appcontext
def replay(job_id: str) -> None:
    """Put a failed job back on its queue."""
    hub = _require_redis()
    for name in QUEUES:
        registry = hub.jobs.queue(name).failed_job_registry
        if job_id in registry.get_job_ids():
            registry.requeue(job_id)
            click.echo(f"{job_id} requeued on {name}")
            return
    raise click.ClickException(f"no failed job {job_id}")
