"""Jobs on rq queues in Redis: one client per process, prefixed names, one or many enqueued.

Every queue name and job id carries the hub's ``HUB_REDIS_PREFIX``, so two
hubs (or two tests) share one Redis without meeting. ``hub.jobs.Jobs`` sends
its jobs here when ``HUB_REDIS_URL`` is set; each job runs through the
trampoline it is given (``hub.jobs.run``), which classifies failures once.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any

from hub.logs import with_request_id

if TYPE_CHECKING:
    import redis
    from rq import Queue
    from rq import Retry

log = logging.getLogger(__name__)


class RqQueues:
    """The rq side of ``hub.jobs.Jobs``: Redis at ``url``, names under ``prefix``.

    ``config`` is the hub's settings, read when a job is queued (``HUB_JOB_TIMEOUT``).
    """

    def __init__(
        self, url: str, prefix: str, config: Mapping[str, Any], trampoline: Callable
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.config = config
        self.trampoline = trampoline
        self._redis: redis.Redis | None = None
        self._redis_pid: int | None = None
        self._queues: dict[str, Queue] = {}
        self._lock = threading.Lock()

    @property
    def redis(self) -> redis.Redis:
        """This process's client (a forked process makes its own)."""
        with self._lock:
            if self._redis is None or self._redis_pid != os.getpid():
                import redis as redis_lib

                self._redis = redis_lib.Redis.from_url(
                    self.url, socket_timeout=5, socket_connect_timeout=2
                )
                self._redis_pid = os.getpid()
                self._queues = {}
        return self._redis

    def queue_name(self, queue: str) -> str:
        return f"{self.prefix}-{queue}"

    def queue(self, queue: str = "default") -> Queue:
        from rq import Queue

        return Queue(
            self.queue_name(queue),
            connection=self.redis,
            default_timeout=self.config["HUB_JOB_TIMEOUT"],
        )

    def job_id(self, job_id: str) -> str:
        """Return the job id as stored: prefixed, so two hubs on one Redis never clash."""
        return f"{self.prefix}-{job_id}"

    def enqueue(
        self,
        path: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        job_id: str | None,
        queue: str,
        retry: Retry | None,
        meta: dict[str, Any] | None,
    ) -> Any:
        """Enqueue ``path(*args, **kwargs)``; the rq job, or None when ``job_id`` is queued."""
        from rq.exceptions import DuplicateJobError

        options: dict[str, Any] = {"retry": retry, "meta": with_request_id(meta)}
        if job_id:
            options.update(job_id=self.job_id(job_id), unique=True)
        options["description"] = path
        try:
            return self._cached_queue(queue).enqueue(
                self.trampoline, path, *args, **kwargs, **options
            )
        except DuplicateJobError:
            log.debug("job %s already queued", job_id)
            return None

    def enqueue_many(self, calls: Iterable[Any]) -> int:
        """Enqueue ``hub.jobs.JobCall``s with one pipeline; return how many were new."""
        calls = list(calls)
        if not calls:
            return 0
        from redis.exceptions import NoScriptError
        from rq.scripts import get_unique_enqueue_script

        connection = self.redis
        script = get_unique_enqueue_script(connection)
        pipe = connection.pipeline(transaction=False)
        queued = [self._queue_one(pipe, script, call) for call in calls]
        results = pipe.execute(raise_on_error=False)
        new = 0
        for (keys, args), result in zip(queued, results[1::2], strict=True):
            if isinstance(result, Exception):
                if not isinstance(result, NoScriptError):
                    raise result
                # The script is not loaded yet (a new process, or a Redis restarted since):
                # load it and run this one again.
                result = script(keys=keys, args=args)
            new += int(result == 1)
        for result in results[::2]:
            if isinstance(result, Exception):
                raise result
        return new

    def report_progress(self, progress: dict[str, Any]) -> None:
        """Keep ``progress`` in the meta of the rq job running now, if any."""
        from rq import get_current_job

        job = get_current_job()
        if job is not None:
            job.meta["progress"] = progress
            job.save_meta()

    def _cached_queue(self, queue: str) -> Queue:
        connection = self.redis  # first: a new process gets a new client and new queues
        cached = self._queues.get(queue)
        if cached is None or cached.connection is not connection:
            cached = self._queues[queue] = self.queue(queue)
        return cached

    def _queue_one(self, pipe: Any, script: Any, call: Any) -> tuple[list[Any], list[Any]]:
        """Add ``call`` to ``pipe`` as rq's unique enqueue would; return the script's keys, args."""
        from rq.job import JobStatus
        from rq.utils import now

        queue = self._cached_queue(call.queue)
        job = queue.create_job(
            self.trampoline,
            args=(call.func, *call.args),
            job_id=self.job_id(call.job_id) if call.job_id else None,
            meta=with_request_id(call.meta),
            retry=call.retry,
            description=call.func,
            timeout=self.config["HUB_JOB_TIMEOUT"],
            status=JobStatus.QUEUED,
        )
        # What rq's Queue.enqueue_job sets before its unique-enqueue script runs.
        job.origin = queue.name
        job.enqueued_at = now()
        job.redis_server_version = queue.get_redis_server_version()
        keys = [job.key, queue.key]
        args = [job.id, "R", job.ttl if job.ttl is not None else -1, *_hset_args(job)]
        pipe.sadd(queue.redis_queues_keys, queue.key)
        pipe.evalsha(script.sha, len(keys), *keys, *args)
        return keys, args


def _hset_args(job: Any) -> list[Any]:
    """The job's fields as rq's unique-enqueue script stores them (``rq.scripts``)."""
    fields: list[Any] = []
    for key, value in job.to_dict().items():
        if value is not None:
            fields.append(key)
            fields.append(value if isinstance(value, (bytes, str)) else str(value))
    return fields
