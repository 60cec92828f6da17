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
    from flask import Request
    from sqlalchemy.orm import Session
    from werkzeug.datastructures import Headers

    from hub.canonical import Customer
    from hub.canonical import Order
    from hub.core import Hub
    from hub.events import Event
    from hub.jobs import PeriodicJob
    from hub.messaging.gateways import DeliveryReceipt
    from hub.messaging.gateways import Gateway
    from hub.messaging.gateways import GatewayCallback
    from hub.messaging.gateways import InboundMessage
    from hub.messaging.gateways import OutgoingMessage
    from hub.messaging.gateways import SendResult
    from hub.messaging.kinds import MessageKind
    from hub.models import Connection
    from hub.models import Member
    from hub.models.rewards import Reward
    from hub.models.tiers import Tier
    from hub.points.earning import Award
    from hub.points.program import Program
    from hub.points.program import ProgramRule
    from hub.registry import ConnectorInfo
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
def register_connectors(hub: Hub) -> list[ConnectorInfo] | None:
    """Return the connectors this plugin provides (name, title, kind). All results are used.

    A connection can only be created for a registered connector name.
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
# Inbound webhooks: a connector checks and reads its platform's deliveries
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def webhook_verify(hub: Hub, connection: Connection, headers: Headers, body: bytes) -> bool | None:
    """Say whether a delivery to ``connection``'s webhook URL really comes from its platform.

    Return True when the signature over the raw ``body`` checks out with the
    connection's secret (compare in constant time), False when it is missing
    or wrong (the hub answers 401 and stores nothing), and None for a
    connection of another connector. Stops at the first non-None result.
    Raise ``Unauthorized`` to refuse with a message of your own.
    Runs in: request, before anything is stored, with an app context but
    not always a request context (use the arguments); no network I/O.
    """


@hookspec(firstresult=True)
def webhook_connection(
    hub: Hub, connector: str, headers: Headers, body: bytes
) -> Connection | None:
    """Name the connection a delivery to the connector's app-wide URL is for.

    Some platforms send every store's deliveries to one URL per app
    (``POST /webhooks/<connector>``): Shopify's privacy topics, Haravan's app
    webhooks. Read the store from the headers (a shop domain, an org id) and
    return its connection, or None for another connector or an unknown store
    (the hub answers 404). The connection may be disabled: a store that
    uninstalled still sends privacy requests, so ``webhook_records`` must
    decide what a disabled connection's deliveries do. The signature is
    checked next, with ``webhook_verify``. Stops at the first non-None result.
    Runs in: request, before anything is stored; no network I/O.
    """


@hookspec(firstresult=True)
def webhook_delivery_id(
    hub: Hub, connection: Connection, headers: Headers, body: bytes
) -> str | None:
    """Return the platform's id of this delivery, the same on every retry of it.

    The hub stores each (connection, delivery id) once, so a platform's retry
    changes nothing. Return None for a connection of another connector or a
    delivery without an id; the hub then uses a SHA-256 of the body.
    Stops at the first non-None result.
    Runs in: request, after ``webhook_verify``, not always with a request
    context (use the arguments); no network I/O.
    """


@hookspec(firstresult=True)
def webhook_topic(hub: Hub, connection: Connection, headers: Headers, body: bytes) -> str | None:
    """Return what the delivery is about, in the platform's words (``orders/create``).

    Stored with the delivery and passed to ``webhook_records``. Return None for
    a connection of another connector. Stops at the first non-None result.
    Runs in: request, after ``webhook_verify``, not always with a request
    context (use the arguments); no network I/O.
    """


@hookspec(firstresult=True)
def webhook_records(
    hub: Hub, connection: Connection, topic: str, payload: Any, headers: Headers
) -> list[Order | Customer | Any] | None:
    """Turn one stored delivery into canonical records: ``Order``, ``Customer``, ``Refund``.

    ``payload`` is the body parsed as JSON. Return a list (empty when the
    delivery changes nothing), or None for a topic the connector does not
    handle or a connection of another connector: the delivery is then marked
    ignored. Raise ``ValidationError`` or ``PermanentError`` for a payload
    that can never be read (the delivery fails for good, with the reason);
    any records returned are applied in one transaction with the delivery.
    Stops at the first non-None result.
    Runs in: worker, once per delivery and again on a replay; no network I/O.
    """


# ---------------------------------------------------------------------------
# The storefront widget: request, no network I/O
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def widget_identity(hub: Hub, connection: Connection, request: Request) -> Member | None:
    """Identify the visitor of a storefront by a platform's own signature (an app proxy).

    Stops at the first non-None result. Return None for connections of other
    connectors and for unsigned requests; the built-in check of the store's
    HS256 token runs when every plugin answered None.
    Runs in: request; no network I/O.
    """


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
def register_gateways(hub: Hub) -> list[Gateway] | None:
    """Return the messaging gateways this plugin provides (connector, channels). All are used.

    A merchant can only route a channel (``sms``, ``zalo``) to a connection
    whose connector a gateway registers for that channel. Register the
    connector itself too, with ``register_connectors`` (kind ``messaging``).
    Runs in: request or worker, the first time messaging settings are read.
    """


@hookspec(firstresult=True)
def send_message(hub: Hub, connection: Connection, message: OutgoingMessage) -> SendResult | None:
    """Send one message through ``connection``'s gateway; return what the gateway answered.

    Return None for a connection of another connector. Format ``message.to``
    (E.164) as the gateway wants, send ``message.reference`` as its tracking
    or request id, and give every HTTP call an explicit timeout. Raise
    ``RetryLater`` for a transient failure (timeout, 429, 5xx: retried with
    backoff) and ``PermanentError`` for one retrying will not fix (the hub
    tries the merchant's next channel); ``RecipientOptedOut`` when the
    gateway says the recipient unsubscribed. Stops at the first non-None result.
    Runs in: worker (queue ``messages``), outside any transaction; network I/O allowed.
    """


@hookspec(firstresult=True)
def gateway_callback(
    hub: Hub, connection: Connection, callback: GatewayCallback
) -> list[DeliveryReceipt | InboundMessage] | None:
    """Check and read one request a gateway made to the connection's callback URL.

    Return a list of ``DeliveryReceipt`` and ``InboundMessage`` items (empty
    when the request reports nothing the hub tracks), or None for a
    connection of another connector. Verify the gateway's signature over
    ``callback.body`` or ``callback.form`` first and raise ``Unauthorized``
    when it is missing or wrong: the hub answers 401 and changes nothing.
    Stops at the first non-None result.
    Runs in: request, after the URL's token was checked; no network I/O.
    """


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
