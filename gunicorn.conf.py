"""gunicorn settings for the hub's web processes: ``gunicorn -c gunicorn.conf.py hub.wsgi:app``.

Every value can be changed through the environment without editing this
file: ``HUB_BIND`` (default ``0.0.0.0:8000``), ``HUB_WEB_WORKERS`` (default
two per core, at least 2), ``HUB_WEB_THREADS`` (default 1), ``HUB_ACCESS_LOG`` (``true``: a line per
request on standard output), and
``PROMETHEUS_MULTIPROC_DIR``: the folder where the workers keep their
metrics so that ``/metrics`` adds them up (default: a fresh folder under the
system's temporary folder, emptied when gunicorn starts).

Without ``HUB_REDIS_URL`` every worker also runs the embedded job runner and
the periodic schedule (``hub.runner``): requests put their jobs on the
database's job table and answer at once, and the workers share the table.
"""

import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("HUB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("HUB_WEB_WORKERS", max(2, 2 * multiprocessing.cpu_count())))
threads = int(os.environ.get("HUB_WEB_THREADS", "1"))
# Webhook platforms wait a few seconds for an answer; no request of the hub's needs 30 s.
timeout = 30
# SIGTERM lets a worker finish its requests and hand over the deliveries it accepted.
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with jitter), so a leak cannot grow forever.
max_requests = 10_000
max_requests_jitter = 1_000
# A line per request costs the web process time; the proxy in front usually logs them.
accesslog = "-" if os.environ.get("HUB_ACCESS_LOG", "").lower() in ("1", "true", "yes") else None
errorlog = "-"
# The address of the client, not of the proxy in front, when the proxy sets X-Forwarded-For.
forwarded_allow_ips = os.environ.get("HUB_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Set before any worker imports the hub: prometheus-client picks its storage at import.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="hub-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
raw_env = [f"PROMETHEUS_MULTIPROC_DIR={_metrics_dir}"]


def on_starting(server):
    """Empty the metrics folder: counters of an earlier run must not be added up again."""
    if os.path.isdir(_metrics_dir):
        for name in os.listdir(_metrics_dir):
            path = os.path.join(_metrics_dir, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker):
    """Let the metrics of a worker that exited stop counting as live (its counters stay)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Without Redis, run the embedded job runner in this worker, beside its requests."""
    from hub.runner import start_embedded
    from hub.wsgi import app

    runner = start_embedded(app.extensions["hub"])
    if runner is not None:
        app.extensions["hub_runner"] = runner


def worker_exit(server, worker):
    """Stop this worker's embedded runner; a job in progress finishes first."""
    import sys

    wsgi = sys.modules.get("hub.wsgi")  # absent when the worker never loaded the app
    runner = wsgi.app.extensions.get("hub_runner") if wsgi is not None else None
    if runner is not None:
        runner.stop()
