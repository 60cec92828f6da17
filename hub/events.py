"""Domain events: written to the outbox in the causing transaction, fanned out after commit.

``emit`` adds the event to the session; once the transaction commits, the
in-process ``track_event`` observers see it and one job per ``handle_event``
plugin that handles its type is enqueued with a deterministic id, so a
replayed dispatch delivers nothing twice. The events of one commit go to
Redis in one pipeline. If the enqueue fails (Redis down), the events stay
undispatched and the periodic sweep enqueues them later.
"""

from __future__ import annotations

import logging
import uuid
import weakref
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from hub.db import insert_rows
from hub.db import utcnow
from hub.jobs import JobCall
from hub.models import EventRecord

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: Every event type the core emits. Plugins may emit their own, dotted the same way.
EVENT_TYPES = (
    "member.created",
    "member.updated",
    "member.merged",
    "member.deleted",
    "member.data_requested",
    "order.received",
    "order.updated",
    "points.earned",
    "points.reversed",
    "points.adjusted",
    "points.expired",
    "points.redeemed",
    "tier.changed",
    "tier.near",
    "voucher.issued",
    "voucher.used",
    "voucher.expired",
    "voucher.cancelled",
    "referral.joined",
    "referral.pending",
    "referral.rewarded",
    "referral.rejected",
    "referral.reversed",
    "webhook_endpoint.disabled",
)


@dataclass(frozen=True)
class Event:
    """Something that happened to one merchant's data."""

    type: str
    merchant_id: int
    data: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "merchant_id": self.merchant_id,
            "data": self.data,
            "occurred_at": self.occurred_at.isoformat(),
        }

    @classmethod
    def from_record(cls, record: EventRecord) -> Event:
        return cls(
            id=record.id,
            type=record.type,
            merchant_id=record.merchant_id,
            data=record.data,
            occurred_at=record.created_at,
        )


def emit(session: Session, event_type: str, merchant_id: int, data: dict) -> Event:
    """Record an event in the session's transaction; it is dispatched after commit."""
    event = Event(type=event_type, merchant_id=merchant_id, data=data)
    session.add(
        EventRecord(
            id=event.id,
            merchant_id=merchant_id,
            type=event_type,
            data=data,
            created_at=event.occurred_at,
        )
    )
    session.info.setdefault("hub_events", []).append(event)
    return event


def emit_many(
    session: Session, merchant_id: int, events: Iterable[tuple[str, dict]]
) -> list[Event]:
    """``emit`` for many ``(type, data)`` pairs of one merchant: one INSERT, written at once."""
    made = [Event(type=kind, merchant_id=merchant_id, data=data) for kind, data in events]
    if not made:
        return made
    insert_rows(
        session,
        EventRecord.__table__,
        [
            {
                "id": event.id,
                "merchant_id": event.merchant_id,
                "type": event.type,
                "data": event.data,
                "created_at": event.occurred_at,
                "dispatched_at": None,
            }
            for event in made
        ],
        json=("data",),
    )
    session.info.setdefault("hub_events", []).extend(made)
    return made


def install(hub: Hub) -> None:
    """Dispatch the events of every committed session of this hub's database.

    The listeners hold the hub weakly: SQLAlchemy keeps them in a class-level
    registry keyed weakly by the sessionmaker's class, and a listener holding
    the hub (and so that class) would keep every hub a process made alive.
    """
    hub_ref = weakref.ref(hub)

    @sa_event.listens_for(hub.db._writer, "after_commit")
    def _after_commit(session: Session) -> None:
        events = session.info.pop("hub_events", [])
        if events:
            # Dispatch needs its own transaction; the committed one is closing.
            session.info.setdefault("hub_after_close", []).extend(events)

    @sa_event.listens_for(hub.db._writer, "after_soft_rollback")
    def _after_rollback(session: Session, _previous: Any) -> None:
        session.info.pop("hub_events", None)

    @sa_event.listens_for(hub.db._writer, "after_transaction_end")
    def _after_end(session: Session, transaction: Any) -> None:
        if transaction.parent is not None:
            return
        events = session.info.pop("hub_after_close", [])
        live_hub = hub_ref()
        if events and live_hub is not None:
            dispatch_many(live_hub, events)


def handles_events(*event_types: str) -> Callable[[F], F]:
    """Declare the event types a ``handle_event`` implementation handles.

    The hub then enqueues its job only for events of those types, instead of
    one job per event that the implementation would look at and drop.
    ``"points.*"`` names every type that starts with ``points.``. An
    implementation without the declaration gets every event. Stack it under
    ``@hookimpl``; the implementation should still ignore other types, since
    the declaration is a promise about what it needs, not a filter it can
    rely on (a replayed job runs whatever its event).
    """
    types = frozenset(event_types)
    if not types or not all(isinstance(t, str) and t for t in types):
        raise ValueError("handles_events needs one or more event type names")

    def declare(function: F) -> F:
        function.hub_event_types = types  # type: ignore[attr-defined]
        return function

    return declare


def wants_events(
    choose: Callable[[Hub, list[Event]], Iterable[str]],
) -> Callable[[F], F]:
    """Let a ``handle_event`` implementation say, when events are dispatched, which it needs.

    ``choose(hub, events)`` gets the events of one dispatch that the
    implementation handles (see ``handles_events``) and returns the ids of
    those it wants a job for; the others get none. It runs in the process
    that committed the events, after the commit, once per dispatch (one
    transaction's events together), so one query answers for all of them:
    an outbound-webhooks plugin asks which merchants have endpoints at all.
    Anything it reads was committed before the events were, so a setting
    saved before an event is always seen. If it raises, every event gets
    its job, as without it. Stack it under ``@hookimpl``.
    """

    def declare(function: F) -> F:
        function.hub_event_filter = choose  # type: ignore[attr-defined]
        return function

    return declare


def handles(function: Callable[..., Any], event_type: str) -> bool:
    """Return True when a ``handle_event`` implementation wants events of ``event_type``."""
    types = getattr(function, "hub_event_types", None)
    if types is None or event_type in types or "*" in types:
        return True
    return f"{event_type.partition('.')[0]}.*" in types


def event_job_id(event_id: str, plugin_name: str) -> str:
    """Return the job id of one plugin's delivery of one event: the same on every dispatch."""
    return f"evt-{event_id}-{_slug(plugin_name)}"


def dispatch(hub: Hub, event: Event) -> bool:
    """Tell observers, enqueue one delivery job per handler, mark the event dispatched.

    Returns False when the enqueue failed; the sweep will try again.
    """
    return dispatch_many(hub, [event])


def dispatch_many(hub: Hub, events: list[Event]) -> bool:
    """Dispatch events together: one Redis pipeline, one update marking them dispatched.

    Each event gets one job per ``handle_event`` implementation that handles
    its type (see ``handles_events``). Returns False when the enqueue failed;
    the events stay undispatched and the sweep tries again.
    """
    observers = hub.pm.hook.track_event.get_hookimpls()
    for event in events:
        for observer in observers:
            try:
                observer.function(
                    **{
                        k: v
                        for k, v in {"hub": hub, "event": event}.items()
                        if k in observer.argnames
                    }
                )
            except Exception:
                log.exception("track_event of plugin %s raised", observer.plugin_name)
    handlers = hub.pm.hook.handle_event.get_hookimpls()
    try:
        hub.jobs.enqueue_many(_delivery_jobs(hub, events, handlers))
    except Exception as exc:
        ids = ", ".join(event.id for event in events)
        log.warning("events %s not dispatched yet (%s); the sweep retries", ids, exc)
        return False
    _mark_dispatched(hub, [event.id for event in events])
    return True


def _delivery_jobs(hub: Hub, events: list[Event], handlers: list[Any]) -> Iterable[JobCall]:
    retry = hub.jobs.default_retry()
    wanted = {impl.plugin_name: _wanted(hub, impl, events) for impl in handlers}
    for event in events:
        for impl in handlers:
            if not handles(impl.function, event.type):
                continue
            chosen = wanted[impl.plugin_name]
            if chosen is not None and event.id not in chosen:
                continue
            yield JobCall(
                "hub.events.deliver_event",
                (event.id, impl.plugin_name),
                job_id=event_job_id(event.id, impl.plugin_name),
                queue="events",
                retry=retry,
                meta={"plugin": impl.plugin_name, "event": event.type},
            )


def _wanted(hub: Hub, impl: Any, events: list[Event]) -> set[str] | None:
    """The ids of the events the implementation's ``wants_events`` chose, or None for all."""
    choose = getattr(impl.function, "hub_event_filter", None)
    if choose is None:
        return None
    handled = [event for event in events if handles(impl.function, event.type)]
    if not handled:
        return set()
    try:
        return set(choose(hub, handled))
    except Exception:
        log.exception(
            "wants_events of plugin %s raised; every event gets its job", impl.plugin_name
        )
        return None


def _mark_dispatched(hub: Hub, event_ids: list[str]) -> None:
    """Set ``dispatched_at``: one statement, autocommitted on PostgreSQL (no ORM session).

    A crash before it only makes the sweep dispatch the events again: the
    deterministic job ids make that a no-op while rq still knows the first
    jobs.
    """
    now = utcnow()
    if hub.db.is_sqlite:
        statement = update(EventRecord).where(EventRecord.id.in_(event_ids))
        with hub.db.transaction() as session:
            session.execute(
                statement.values(dispatched_at=now).execution_options(synchronize_session=False)
            )
        return
    with hub.db.driver_connection() as connection:
        hub.db.run_prepared(connection, "hub_mark_dispatched", _MARK_DISPATCHED,
                            [now, _text_array(event_ids)])  # fmt: skip


_MARK_DISPATCHED = "UPDATE events SET dispatched_at = %s::timestamptz WHERE id = ANY(%s::varchar[])"


def _text_array(values: list[str]) -> str:
    """``values`` as a PostgreSQL array literal of quoted strings."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def deliver_event(event_id: str, plugin_name: str) -> None:
    """Job: run one plugin's ``handle_event`` for one stored event."""
    from hub.core import current_hub

    hub = current_hub()
    with hub.db.session() as session:
        record = session.get(EventRecord, event_id)
        if record is None:
            log.warning("event %s is gone; nothing to deliver", event_id)
            return
        event = Event.from_record(record)
    plugin = hub.pm.get_plugin(plugin_name)
    if plugin is None:
        log.warning("plugin %s is not loaded; event %s skipped", plugin_name, event_id)
        return
    others = [p for name, p in hub.pm.list_name_plugin() if name != plugin_name]
    caller = hub.pm.subset_hook_caller("handle_event", remove_plugins=others)
    caller(hub=hub, event=event)


def sweep_undispatched(older_than_seconds: int = 30) -> int:
    """Periodic job: dispatch events whose fan-out never reached the queue."""
    from hub.core import current_hub

    hub = current_hub()
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    with hub.db.session() as session:
        records = session.scalars(
            select(EventRecord)
            .where(EventRecord.dispatched_at.is_(None), EventRecord.created_at < cutoff)
            .order_by(EventRecord.created_at)
            .limit(500)
        ).all()
        events = [Event.from_record(r) for r in records]
    dispatched = 0
    for start in range(0, len(events), 50):
        batch = events[start : start + 50]
        if dispatch_many(hub, batch):
            dispatched += len(batch)
    return dispatched


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
