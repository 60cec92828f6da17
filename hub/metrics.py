"""Prometheus metrics: counters the hot paths bump, gauges read when scraped.

Counters live for the process (Prometheus's model): ``count`` bumps one by
name and labels, a dictionary look-up and an addition. Under gunicorn,
``PROMETHEUS_MULTIPROC_DIR`` (set before the hub is imported; the shipped
``gunicorn.conf.py`` does it) makes every worker write its counters to a
shared folder, and a scrape of any worker adds them up.

Gauges of things that are stored elsewhere (the inbox backlog, queue
lengths) are read when ``/metrics`` is scraped, not kept up to date: a
plugin adds its own with ``register_gauges``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from flask import Flask
    from flask import Response

    from hub.core import Hub

log = logging.getLogger(__name__)

#: The counters of this process; under gunicorn their values live in the shared folder.
_COUNTERS = CollectorRegistry(auto_describe=True)


def _counter(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Counter:
    return Counter(name, documentation, labels, registry=_COUNTERS)


#: Every counter ``count`` knows, by the name it is bumped with.
COUNTERS: dict[str, Counter] = {
    "http_requests": _counter(
        "hub_http_requests", "Requests answered, by route and status", ("method", "route", "status")
    ),
    "webhook_deliveries": _counter(
        "hub_webhook_deliveries",
        "Inbound webhook deliveries by connector and outcome (received, stored, duplicate, "
        "rejected)",
        ("connector", "outcome"),
    ),
    "accruals": _counter("hub_accruals", "Orders that earned points", ()),
    "points_accrued": _counter("hub_points_accrued", "Points earned on orders", ()),
    "redemptions": _counter("hub_redemptions", "Rewards redeemed", ()),
    "points_redeemed": _counter("hub_points_redeemed", "Points spent on rewards", ()),
    "messages": _counter(
        "hub_messages",
        "Message send attempts by gateway and result (sent, transient, permanent, opted_out)",
        ("gateway", "result"),
    ),
    "outbound_deliveries": _counter(
        "hub_outbound_deliveries",
        "Attempts to deliver outbound webhooks, by the delivery's status afterwards",
        ("result",),
    ),
}

REQUEST_SECONDS = Histogram(
    "hub_http_request_duration_seconds",
    "Time to answer a request, by route",
    ("method", "route"),
    registry=_COUNTERS,
)


def count(name: str, amount: float = 1, **labels: str) -> None:
    """Add ``amount`` to the counter ``name`` (a key of ``COUNTERS``) with ``labels``.

    Cheap enough for a hot path. An unknown name or label is a bug and raises.
    """
    key = (name, *labels.items())
    child = _CHILDREN.get(key)
    if child is None:
        metric = COUNTERS[name]
        child = _CHILDREN[key] = metric.labels(**labels) if labels else metric
    child.inc(amount)


#: Each counter with its labels filled in, by (name, *label items): found again in one look-up.
_CHILDREN: dict[tuple[Any, ...], Any] = {}


@dataclass(frozen=True)
class GaugeReading:
    """One gauge value a plugin reports when ``/metrics`` is scraped."""

    name: str
    documentation: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


GaugeSource = Callable[["Hub"], Iterable[GaugeReading]]


def register_gauges(hub: Hub, source: GaugeSource) -> None:
    """Have ``source(hub)`` read gauges at every scrape of this hub's ``/metrics``.

    It runs inside the scrape's request: keep it to a query or two. A source
    that raises is logged and skipped; the other metrics are still served.
    """
    hub.app.extensions.setdefault("hub.gauges", []).append(source)


def _core_gauges(hub: Hub) -> Iterator[GaugeReading]:
    """Queued and failed jobs per queue, from rq's registries (with Redis)."""
    if hub.jobs.is_inline:
        return
    from hub.jobs import QUEUES

    for name in QUEUES:
        queue = hub.jobs.queue(name)
        labels = {"queue": name}
        yield GaugeReading("hub_jobs_queued", "Jobs waiting in the queue", queue.count, labels)
        yield GaugeReading(
            "hub_jobs_failed",
            "Jobs in the failed-job registry",
            queue.failed_job_registry.count,
            labels,
        )


class _Gauges:
    """A collector that reads every registered gauge source of one hub."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families: dict[str, GaugeMetricFamily] = {}
        sources = [_core_gauges, *self.hub.app.extensions.get("hub.gauges", [])]
        for source in sources:
            try:
                readings = list(source(self.hub))
            except Exception:
                log.exception("metrics: the gauge source %r failed", source)
                continue
            for reading in readings:
                family = families.get(reading.name)
                if family is None:
                    family = families[reading.name] = GaugeMetricFamily(
                        reading.name, reading.documentation, labels=sorted(reading.labels)
                    )
                family.add_metric(
                    [reading.labels[k] for k in sorted(reading.labels)], reading.value
                )
        yield from families.values()


def exposition(hub: Hub) -> bytes:
    """The metrics page: this process's (or every gunicorn worker's) counters and the gauges."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Counters())
    registry.register(_Gauges(hub))
    return generate_latest(registry)


class _Counters:
    def collect(self) -> Iterator[Any]:
        yield from _COUNTERS.collect()


def install_request_metrics(app: Flask) -> None:
    """Count every request the app answers and time it, by route (the URL rule, not the path)."""
    from flask import g
    from flask import request

    @app.before_request
    def _start_clock() -> None:
        g.hub_request_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.get("hub_request_started")
        rule = request.url_rule
        route = rule.rule if rule is not None else "(unmatched)"
        method = request.method
        COUNTERS["http_requests"].labels(method, route, str(response.status_code)).inc()
        if started is not None:
            REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - started)
        return response
