"""``/healthz``, ``/readyz`` and ``/metrics``: what load balancers and Prometheus ask.

``/healthz`` answers while the process can answer at all (no database
call): a failing one means restart the process. ``/readyz`` answers 200 only
when the database answers, its schema is at this version's head and Redis
answers (when configured): a failing one means send no traffic here yet.
Neither says more than which check failed; the reason goes to the log.

``/metrics`` is for Prometheus. With ``HUB_METRICS_TOKEN`` set it wants
``Authorization: Bearer <token>``; without it, it answers only requests that
come straight from this machine (a loopback address, no ``X-Forwarded-For``),
so a hub behind a reverse proxy does not publish it by accident.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import jsonify
from flask import request

from hub.core import current_hub
from hub.errors import NotFound
from hub.errors import Unauthorized
from hub.health import database_problem
from hub.health import redis_problem
from hub.health import schema_problem
from hub.logs import install_request_ids
from hub.metrics import exposition
from hub.metrics import install_request_metrics

log = logging.getLogger(__name__)

bp = Blueprint("probes", __name__)

#: The content type of Prometheus's text format.
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@bp.get("/healthz")
def healthz():
    """Answer 200 while the process is alive; touches nothing else."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Answer 200 when the database, its schema and Redis are fit to serve; 503 if not."""
    hub = current_hub()
    checks: dict[str, str] = {}
    for name, check in (
        ("database", database_problem),
        ("schema", schema_problem),
        ("redis", redis_problem),
    ):
        if name == "redis" and hub.jobs.is_inline:
            checks[name] = "not configured"
            continue
        if name == "schema" and checks.get("database") == "failed":
            checks[name] = "unknown"
            continue
        problem = check(hub)
        if problem is not None:
            log.warning("readyz: %s", problem)
        checks[name] = "failed" if problem else "ok"
    ready = "failed" not in checks.values()
    body = jsonify(status="ready" if ready else "unavailable", checks=checks)
    return body, 200 if ready else 503


@bp.get("/metrics")
def metrics():
    """Serve the hub's metrics in Prometheus's text format."""
    hub = current_hub()
    token = hub.config.get("HUB_METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized(
                "the metrics need Authorization: Bearer <HUB_METRICS_TOKEN>",
                code="metrics_token",
            )
    elif not _from_this_machine():
        raise NotFound("no such page", code="not_found")
    return Response(exposition(hub), mimetype=None, content_type=PROMETHEUS_TEXT)


def _from_this_machine() -> bool:
    if request.headers.get("X-Forwarded-For"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def init_probes(app: Flask) -> None:
    """Register the probes, the request metrics and the request ids on ``app``."""
    app.register_blueprint(bp)
    install_request_metrics(app)
    install_request_ids(app)
