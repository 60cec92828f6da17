"""Every hook the hub calls, grouped by phase. Each spec is a contract.

Call hooks with keyword arguments only: an implementation may take fewer
arguments than the spec names, so adding an argument is safe and renaming
one is not. Each hook has a section in ``docs/plugin-hooks.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from hub.markers import hookspec

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from sqlalchemy.orm import Session

    from hub.canonical import Customer
    from hub.canonical import Order
    from hub.core import Hub
    from hub.events import Event
    from hub.jobs import PeriodicJob
    from hub.messaging.kinds import MessageKind
    from hub.models import Connection
    from hub.models import Member
    from hub.models.rewards import Reward
    from hub.models.tiers import Tier
    from hub.points.earning import Award
    from hub.points.program import Program
    from hub.points.program import ProgramRule
    from hub.registry import ApiInterface
    from hub.registry import Connector
    from hub.registry import ConsolePage
    from hub.registry import DeliveryHealth
    from hub.segments.conditions import SegmentCondition
    from hub.tiers import TierStats


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
def register_console_pages(hub: Hub) -> list[ConsolePage] | None:
    """Return pages to add to the console's navigation. All results are used.

    Each page's view lives in a blueprint from ``register_blueprints``.
    Runs in: startup.
    """


@hookspec
def register_api_interfaces(hub: Hub) -> list[ApiInterface] | None:
    """Return ``ApiInterface``s: HTTP interfaces served outside ``/api/v1`` (a counter API,
    a webhook intake), added to the OpenAPI document. All results are used.

    Runs in: the first read of the document (``/api/v1/openapi.json``, ``/api/v1/docs``).
    """


@hookspec
def register_connectors(hub: Hub) -> list[Connector] | None:
    """Return this plugin's connector objects (``hub.Connector`` subclasses). All are used.

    A connection can only be created for a registered connector name, and
    every call about a connection (webhooks, widget identity, messages) goes
    to the object its connector names. Two plugins may not register one name.
    Runs in: startup.
    """


@hookspec
def register_periodic_jobs(hub: Hub) -> list[PeriodicJob] | None:
    """Return jobs to run on a schedule (rq cron). All results are used.

    Each job must be idempotent: a run repeated or run late changes nothing twice.
    Runs in: startup of the cron scheduler (or of the embedded runner without Redis).
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
# Tiers and rewards: request or worker, no network I/O
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def tier_for_member(hub: Hub, session: Session, member: Member, stats: TierStats) -> Tier | None:
    """Return the tier the member's numbers earn: one of ``stats.tiers``, or None.

    ``stats`` holds the merchant's ladder (lowest first) and the member's
    progress at ``stats.at`` on each basis and window the tiers use
    (``stats.progress(tier)``). The core upgrades at once to a higher answer
    and moves down only at a review, per the merchant's downgrade policy.
    Stops at the first non-None result; the built-in implementation (trylast)
    answers the highest tier whose threshold the progress reaches.
    Runs in: request or worker, inside the caller's transaction; no network I/O.
    """


@hookspec(firstresult=True)
def check_redemption(hub: Hub, session: Session, member: Member, reward: Reward) -> str | None:
    """Return a reason to refuse this redemption, shown to the member, or None to allow it.

    Called after the core's own checks (active reward, tier restriction) and
    before any points move; a reason makes the API answer 422
    ``redemption_refused`` with it as the message. Stops at the first reason.
    Runs in: request, inside the redemption's transaction; no network I/O.
    """


# ---------------------------------------------------------------------------
# Connections: inbound deliveries as the merchant sees them, request
# ---------------------------------------------------------------------------


@hookspec
def connection_health(
    hub: Hub, session: Session, merchant_id: int, connection_ids: list[int]
) -> dict[int, DeliveryHealth] | None:
    """Return the health of the merchant's connections' inbound deliveries, by connection id.

    Answers of several plugins for one connection are added up. Database reads only.
    Runs in: request (the Connections page, ``GET /api/v1/connections/<id>/health``).
    """


@hookspec(firstresult=True)
def replay_failed_deliveries(hub: Hub, merchant_id: int, connection_id: int) -> int | None:
    """Queue a connection's inbound deliveries that failed for good again; return how many.

    Stops at the first answer that is not None. Enqueues jobs, no network I/O.
    Runs in: request (the Connections page, ``POST /api/v1/connections/<id>/replay``).
    """


# ---------------------------------------------------------------------------
# The storefront widget: request, no network I/O
# ---------------------------------------------------------------------------


@hookspec
def widget_data(hub: Hub, member: Member, connection: Connection) -> dict[str, Any] | None:
    """Return extra keys for a member's widget panel (under ``member.extra``). Merged in order.

    The result is cached with the panel and dropped when the member's data changes.
    Runs in: request; no network I/O.
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
    lands in the failed-job registry with the plugin named. An implementation
    marked ``@handles_events(...)`` gets jobs only for the types it names.
    Runs in: worker (or inline when no Redis is configured).
    """


# ---------------------------------------------------------------------------
# Points: earning rules, request or worker, no network I/O
# ---------------------------------------------------------------------------


@hookspec
def register_program_rules(hub: Hub) -> list[ProgramRule] | None:
    """Return the earning rules this plugin offers (name, title, settings schema). All are used.

    A merchant configures a rule in the program's ``rules.<name>`` section; the
    hub refuses sections no installed plugin offers and checks each against
    the rule's schema when the program is saved.
    Runs in: request or worker, the first time the program is read or saved.
    """


@hookspec
def points_for_order(
    hub: Hub,
    session: Session,
    merchant_id: int,
    member: Member | None,
    order: Order,
    program: Program,
) -> list[Award] | None:
    """Return the named awards this plugin gives for a paid order. All results are applied.

    ``order`` is the canonical order; ``program`` the version in force when it
    was placed (``program.earning_base(order)``, ``program.points_for(amount)``,
    ``program.rule(name)`` for the plugin's own settings). ``member`` is None
    when a preview is asked for without one. Each award becomes one ledger
    entry keyed ``order:<order id>:earn:<rule>``: awards with the same rule
    name are added together, awards of zero points or less are dropped. Only
    called for orders the program lets earn (enabled, started, minimum met).
    Must not write: the same hook answers previews.
    Runs in: request or worker, inside the order's transaction; no network I/O.
    """


# ---------------------------------------------------------------------------
# Messaging: gateways send, automatic message kinds decide what to say
# ---------------------------------------------------------------------------


@hookspec
def register_message_kinds(hub: Hub) -> list[MessageKind] | None:
    """Return the automatic message kinds this plugin sends (name, templates, options).

    A merchant switches each kind on in ``PUT /api/v1/messaging/settings``
    and may change its templates; the plugin queues messages of its kinds
    with ``queue_message`` from ``handle_event`` or a periodic job. All
    results are used; two plugins may not register one name.
    Runs in: request or worker, the first time messaging settings are read.
    """


# ---------------------------------------------------------------------------
# Segments: the conditions a segment may use
# ---------------------------------------------------------------------------


@hookspec
def register_segment_conditions(hub: Hub) -> list[SegmentCondition] | None:
    """Return the segment condition kinds this plugin adds (name, schema, SQL). All are used.

    Two plugins may not register one name. Each kind compiles to a SQL
    boolean over members that holds on PostgreSQL and SQLite.
    Runs in: request or worker, the first time a segment is evaluated.
    """
