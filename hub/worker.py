"""The rq worker and cron scheduler behind ``hub worker``."""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from typing import TYPE_CHECKING
from typing import Any

from rq import SimpleWorker
from rq import Worker
from rq.cron import CronScheduler
from rq.worker import DequeueStrategy

from hub.jobs import QUEUES
from hub.jobs import PeriodicJob
from hub.jobs import run

if TYPE_CHECKING:
    from flask import Flask

    from hub.core import Hub

log = logging.getLogger(__name__)


class _AppContext:
    """Run every job inside the hub's app context.

    A forking worker's work horse must not reuse the parent's database
    connections, so it drops its inherited pool first.
    """

    flask_app: Flask

    def perform_job(self, job: Any, queue: Any, *args: Any, **kwargs: Any) -> bool:
        hub = self.flask_app.extensions["hub"]
        if os.getpid() != hub.pid:
            hub.after_fork()
        with self.flask_app.app_context():
            return super().perform_job(job, queue, *args, **kwargs)


class HubWorker(_AppContext, Worker):
    """Forks a work horse per job: isolated, the production default."""


class SimpleHubWorker(_AppContext, SimpleWorker):
    """Runs jobs in the worker process itself, with no fork: a job that crashes the
    process ends the worker with it."""


def make_worker(hub: Hub, queues: list[str] | None = None, *, simple: bool = False) -> Worker:
    """Return a worker for the hub's queues; ``simple`` runs jobs without forking."""
    names = [hub.jobs.queue_name(q) for q in (queues or QUEUES)]
    worker = (SimpleHubWorker if simple else HubWorker)(names, connection=hub.jobs.redis)
    worker.flask_app = hub.app
    return worker


def periodic_jobs(hub: Hub) -> list[PeriodicJob]:
    """Collect every plugin's periodic jobs and the core's own."""
    jobs = [
        PeriodicJob(
            name="events.sweep",
            func="hub.events.sweep_undispatched",
            interval=60,
            queue="events",
        )
    ]
    for result in hub.pm.hook.register_periodic_jobs(hub=hub):
        jobs.extend(result or [])
    return jobs


def make_cron(hub: Hub) -> CronScheduler:
    """Return an rq cron scheduler with every periodic job registered."""
    cron = CronScheduler(connection=hub.jobs.redis, name=f"{hub.jobs.prefix}-cron-{os.getpid()}")
    for job in periodic_jobs(hub):
        cron.register(
            run,
            hub.jobs.queue_name(job.queue),
            args=(job.func,),
            kwargs=job.kwargs,
            interval=job.interval,
            cron=job.cron,
            name=f"{hub.jobs.prefix}-{job.name}",
        )
    return cron


def start_cron_thread(hub: Hub, stop: threading.Event) -> threading.Thread:
    """Run the cron scheduler's loop in a daemon thread beside the worker.

    ``CronScheduler.start`` installs signal handlers, which only the main
    thread may do, so the loop is driven here instead.
    """
    cron = make_cron(hub)

    def loop() -> None:
        cron.register_birth()
        try:
            while not stop.is_set():
                if cron.enqueue_jobs():
                    cron.save()
                cron.heartbeat()
                stop.wait(min(cron.calculate_sleep_interval(), 5))
        except Exception:
            log.exception("cron scheduler stopped")
        finally:
            cron.register_death()

    thread = threading.Thread(target=loop, name="hub-cron", daemon=True)
    thread.start()
    return thread


def work(hub: Hub, *, burst: bool = False, simple: bool = False, cron: bool = True) -> None:
    """Run a worker with rq's scheduler (for retries) and, optionally, the cron loop."""
    stop = threading.Event()
    if cron:
        start_cron_thread(hub, stop)
    worker = make_worker(hub, simple=simple)
    if burst:
        # rq's command channel is for stopping a long-running worker from outside; a burst
        # stops by itself, and stopping the channel's thread could wait out its 60 s poll.
        worker.subscribe = lambda: None  # type: ignore[method-assign]
    # What is loaded by now lives as long as the process: keep the collector off it.
    gc.collect()
    gc.freeze()
    try:
        # Round robin over the queues: a stream of deliveries never starves the events'
        # fan-out, nor a burst of fan-out jobs the deliveries.
        worker.work(
            burst=burst,
            with_scheduler=True,
            logging_level=hub.config["HUB_LOG_LEVEL"],
            dequeue_strategy=DequeueStrategy.ROUND_ROBIN,
        )
    finally:
        stop.set()
        time.sleep(0)
