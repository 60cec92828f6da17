"""``hub jobs``: the failed-job registry and replays, on rq or the job table."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hub.core import current_hub
from hub.jobs import QUEUES


@click.group("jobs")
def jobs_group() -> None:
    """Inspect and replay failed jobs."""


@jobs_group.command("failed")
@with_appcontext
def failed() -> None:
    """List failed jobs with the plugin and reason."""
    hub = current_hub()
    rows = _failed_in_table(hub) if hub.jobs.is_inline else _failed_on_rq(hub)
    if not rows:
        click.echo("no failed jobs")
    for row in rows:
        click.echo("\t".join(row))


def _failed_in_table(hub) -> list[tuple[str, ...]]:
    from hub import job_table

    with hub.db.session() as session:
        return [
            (
                str(job.id),
                job.queue,
                job.func,
                str((job.meta or {}).get("plugin", "-")),
                job.last_error or "-",
            )
            for job in job_table.failed_jobs(session)
        ]


def _failed_on_rq(hub) -> list[tuple[str, ...]]:
    from rq.job import Job

    rows = []
    for name in QUEUES:
        queue = hub.jobs.queue(name)
        ids = queue.failed_job_registry.get_job_ids()
        for job in Job.fetch_many(ids, connection=hub.jobs.redis):
            if job is None:
                continue
            meta = job.meta or {}
            rows.append(
                (
                    job.id,
                    name,
                    str(job.description),
                    str(meta.get("plugin", "-")),
                    str(meta.get("last_error", "-")),
                )
            )
    return rows


@jobs_group.command("replay")
@click.argument("job_id")
@with_appcontext
def replay(job_id: str) -> None:
    """Put a failed job back on its queue."""
    hub = current_hub()
    if hub.jobs.is_inline:
        from hub import job_table
        from hub.db import utcnow

        replayed = False
        if job_id.isdigit():
            with hub.db.transaction() as session:
                replayed = job_table.replay(session, int(job_id), now=utcnow())
        if replayed:
            click.echo(f"{job_id} queued again; the embedded runner of hub serve runs it")
            return
        raise click.ClickException(f"no failed job {job_id}")
    for name in QUEUES:
        registry = hub.jobs.queue(name).failed_job_registry
        if job_id in registry.get_job_ids():
            registry.requeue(job_id)
            click.echo(f"{job_id} requeued on {name}")
            return
    raise click.ClickException(f"no failed job {job_id}")
