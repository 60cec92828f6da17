"""Every hook the hub calls, grouped by phase. Each spec is a contract.

Call hooks with keyword arguments only: an implementation may take fewer
arguments than the spec names, so adding an argument is safe and renaming
one is not. Each hook has a section in ``docs/plugin-hooks.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

import pluggy

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from sqlalchemy.orm import Session

    from hub.canonical import Customer
    from hub.core import Hub
    from hub.events import Event
    from hub.jobs import PeriodicJob
    from hub.models import Member
    from hub.registry import ConnectorInfo

hookspec = pluggy.HookspecMarker("hub")
hookimpl = pluggy.HookimplMarker("hub")


# ---------------------------------------------------------------------------
# Startup: called once per process, while the app is built
# ---------------------------------------------------------------------------


@hookspec
def startup(hub: Hub) -> None:
    """Check configuration and prepare state once the app is built.

    Returns nothing; raise ``StartupError`` with a message that names the fix.
    Runs in: startup, every process (web, worker, CLI).
    """


@hookspec
def register_blueprints(hub: Hub) -> list[Blueprint] | None:
    """Return Flask blueprints to mount on the app. All results are used.

    Runs in: startup.
    """


@hookspec
def register_connectors(hub: Hub) -> list[ConnectorInfo] | None:
    """Return the connectors this plugin provides (name, title, kind). All results are used.

    A connection can only be created for a registered connector name.
    Runs in: startup.
    """


@hookspec
def register_periodic_jobs(hub: Hub) -> list[PeriodicJob] | None:
    """Return jobs to run on a schedule (rq cron). All results are used.

    Each job must be idempotent: a run repeated or run late changes nothing twice.
    Runs in: startup of the cron scheduler.
    """


@hookspec
def register_migrations(hub: Hub) -> list[str] | None:
    """Return folders of Alembic migration scripts for this plugin's tables. All are used.

    Each plugin keeps its own branch (a ``branch_labels`` of its name whose
    first revision ``depends_on`` the core's ``0001_core``); ``hub db upgrade``
    applies every head.
    Runs in: ``hub db upgrade`` and ``hub serve`` on SQLite.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands to the ``hub`` command line. Returns nothing.

    Runs in: CLI startup, before the app exists; commands get the app
    through ``flask.current_app``.
    """


# ---------------------------------------------------------------------------
# Members and identity: request or worker, no network I/O
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def member_for_customer(
    hub: Hub,
    session: Session,
    merchant_id: int,
    connection_id: int | None,
    customer: Customer,
) -> Member | None:
    """Find or create the member for a customer an outside system sent.

    Stops at the first non-None result. The built-in implementation (trylast)
    matches the phone in E.164, then the email, then the connection's customer
    id, and creates a member when nothing matches and there is a phone or email.
    Runs in: request or worker, inside the caller's transaction; no network I/O.
    """


@hookspec
def member_merged(hub: Hub, session: Session, survivor: Member, merged: Member) -> None:
    """Fix state derived from member rows after a merge moved them to ``survivor``.

    Returns nothing. Rows with a ``member_id`` column have already moved; use
    this for caches and totals kept elsewhere. Raising rolls the merge back.
    Runs in: request or CLI, inside the merge transaction; no network I/O.
    """


# ---------------------------------------------------------------------------
# Events and delivery
# ---------------------------------------------------------------------------


@hookspec
def track_event(hub: Hub, event: Event) -> None:
    """Observe a domain event in the process that emitted it (metrics, audit, tests).

    Returns nothing. Must be fast, must not raise, must not do network I/O.
    Runs in: whichever process committed the event, right after the commit.
    """


@hookspec
def handle_event(hub: Hub, event: Event) -> Any:
    """React to a domain event with side effects (deliver, notify, push).

    Each plugin's implementation runs as its own job, so one failing plugin
    never blocks another. Raise ``RetryLater`` for a transient failure (the job
    is retried with backoff); any other exception fails the job for good and
    lands in the failed-job registry with the plugin named.
    Runs in: worker (or inline when no Redis is configured).
    """
