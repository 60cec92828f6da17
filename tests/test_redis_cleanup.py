"""A test that used Redis leaves nothing of its own there afterwards."""

from __future__ import annotations

import redis

from hub.testing import forget_redis_prefix
from hub.testing import run_jobs
from hub.worker import make_cron


def noop(value: int) -> int:
    """A job that does nothing."""
    return value


def traces(connection: redis.Redis, prefix: str) -> list[str]:
    """Every key, set member and job in Redis that belongs to ``prefix``."""
    found = [key.decode() for key in connection.scan_iter(match=f"*{prefix}*")]
    for key in connection.scan_iter(match="rq:job:*"):
        origin = connection.hget(key, "origin")
        if origin is not None and prefix in origin.decode():
            found.append(key.decode())
    found += [
        f"rq:queues {m.decode()}" for m in connection.smembers("rq:queues") if prefix in m.decode()
    ]
    for member in connection.smembers("rq:workers"):
        if prefix in (connection.hget(member, "queues") or b"").decode():
            found.append(f"rq:workers {member.decode()}")
    found += [m.decode() for m in connection.zrange("rq:cron_jobs", 0, -1) if prefix in m.decode()]
    return found


def test_jobs_workers_and_cron_under_a_prefix_are_all_forgotten(redis_app, redis_url, redis_prefix):
    hub = redis_app.extensions["hub"]
    connection = redis.Redis.from_url(redis_url)
    for value in range(3):
        hub.jobs.enqueue(f"{__name__}.noop", value)  # ids of rq's own, without the prefix
    hub.jobs.enqueue(f"{__name__}.noop", 9, job_id="with-an-id")
    run_jobs(hub)
    make_cron(hub).register_birth()
    assert len(traces(connection, redis_prefix)) > 5

    forget_redis_prefix(connection, redis_prefix)

    assert traces(connection, redis_prefix) == []
