"""The store-connector base: what every online-store connector does the same way.

A store connector (Shopify, Haravan, a third platform) subclasses
``StoreConnector`` and supplies its payload mapping (``read``), how to open an
API client for a connection (``open_store``) and how to create and withdraw a
discount (``create_discount``, ``withdraw_code``). The base keeps the rest:
finding the connection an app-wide delivery is for through the table of
installs, turning an unreadable payload into a clean failure, and the
skeleton of pushing a redeemed voucher to every active store of the merchant.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar

from marshmallow import ValidationError as SchemaError
from sqlalchemy import ForeignKey
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column

from hub.db import BigId
from hub.db import UTCDateTime
from hub.db import utcnow
from hub.errors import PermanentError
from hub.errors import ValidationError
from hub.jobs import PeriodicJob
from hub.members.directory import identities_of
from hub.merchants.connections import active_connection_ids
from hub.merchants.connections import connection_secrets
from hub.models import Connection
from hub.registry import Connector
from hub.rewards.vouchers import voucher_status

if TYPE_CHECKING:
    import click
    from werkzeug.datastructures import Headers

    from hub.core import Hub
    from hub.db import Model
    from hub.events import Event

log = logging.getLogger(__name__)


@dataclass
class StoreConnection:
    """An active connection with its secrets, for a connector to build its API client on."""

    connection: Connection
    secrets: dict[str, str]

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.connection.settings or {})


class StoreConnector(Connector):
    """An online store: webhooks in, app-wide deliveries by store, vouchers out.

    ``install_model`` is the connector's table of installs: one row per store
    (its primary key) naming the connection that completed OAuth for it, with
    ``connection_id`` and ``installed_at`` columns. ``install_header`` is the
    header an app-wide delivery names its store in. ``voucher_kinds`` are the
    voucher kinds the store can take as a discount. ``package`` is the
    connector's package, where the plugin hooks' helpers below find its
    ``sync`` (``reconcile_all``), ``cli`` (``add_commands``) and ``migrations``.
    """

    kind = "store"
    install_model: ClassVar[type[Model]]
    install_header: ClassVar[str] = ""
    voucher_kinds: ClassVar[tuple[str, ...]] = ("amount_off", "percent_off")
    package: ClassVar[str] = ""
    #: Seconds between two reconciliations of every active connection of the connector.
    reconcile_every: ClassVar[int] = 15 * 60

    # -- what a store connector supplies -----------------------------------------

    def read(
        self, hub: Hub, connection: Connection, topic: str, payload: Any, headers: Headers
    ) -> list[Any] | None:
        """Map one delivery to canonical records (marshmallow errors become a clean failure)."""
        return None

    def store_key(self, headers: Headers) -> str | None:
        """The store an app-wide delivery names, or None when it names none the hub may use."""
        return (headers.get(self.install_header) or "").strip() or None

    def open_store(self, hub: Hub, connection_id: int) -> Any:
        """An API client for an active connection (with ``connection``), or None to call nothing."""
        raise NotImplementedError

    def create_discount(
        self, hub: Hub, store: Any, voucher: dict[str, Any], customer_id: str | None
    ) -> None:
        """Create the voucher's discount in one store; one the store already has is done."""
        raise NotImplementedError

    def withdraw_code(self, hub: Hub, merchant_id: int, code: str) -> list[int]:
        """Make the discount ``code`` unusable in the merchant's stores; answer those done now."""
        raise NotImplementedError

    # -- what the base does for every store ----------------------------------------

    def periodic_jobs(self) -> list[PeriodicJob]:
        """The reconciliation of every active connection, for ``register_periodic_jobs``."""
        return [
            PeriodicJob(
                name=f"{self.name}.reconcile",
                func=f"{self.package}.sync.reconcile_all",
                interval=self.reconcile_every,
            )
        ]

    def migrations(self) -> list[str]:
        """The folder of the connector's own migrations, for ``register_migrations``."""
        package = importlib.import_module(self.package)
        return [str(Path(package.__file__).parent / "migrations")]

    def add_commands(self, cli: click.Group) -> None:
        """Add ``hub NAME ...`` and ``hub simulate NAME`` from the connector's ``cli``.

        The ``cli`` module is imported here, when the ``hub`` command is assembled.
        """
        importlib.import_module(f"{self.package}.cli").add_commands(cli)

    def connection_for(self, hub: Hub, headers: Headers, body: bytes) -> Connection | None:
        """The connection that completed OAuth for the named store, even after an uninstall.

        A connection that merely names the store in its settings is never chosen.
        """
        key = self.store_key(headers)
        if key is None:
            return None
        with hub.db.session() as session:
            connection = installed_connection(session, self.install_model, key)
            if connection is None:
                return None
            session.expunge(connection)
            return connection

    def records(
        self, hub: Hub, connection: Connection, topic: str, payload: Any, headers: Headers
    ) -> list[Any] | None:
        try:
            return self.read(hub, connection, topic, payload, headers)
        except SchemaError as exc:
            messages = exc.messages
            raise ValidationError(
                f"this {self.title} {topic} delivery cannot be read; see details",
                details=messages if isinstance(messages, dict) else {"payload": messages},
            ) from None

    def handle_voucher_event(self, hub: Hub, event: Event) -> list[int] | None:
        """Push an issued voucher, withdraw a cancelled one; answer the connections done."""
        if event.type == "voucher.issued":
            return self.push_voucher(hub, event)
        if event.type == "voucher.cancelled":
            return self.withdraw_voucher(hub, event)
        return None

    def push_voucher(self, hub: Hub, event: Event) -> list[int]:
        """Create the event's voucher in each active store of the merchant.

        Limited to the member's own customer account where the store knows
        them. A voucher cancelled before the push is not pushed; one cancelled
        while it was being pushed is withdrawn by this same job, since the
        cancellation's own job may have found nothing to withdraw yet.
        """
        voucher = event.data
        if voucher.get("kind") not in self.voucher_kinds:
            log.info(
                "voucher %s is a %s: not for %s",
                voucher.get("code"),
                voucher.get("kind"),
                self.title,
            )
            return []
        if voucher_status(hub, event.merchant_id, voucher["code"]) != "issued":
            return []
        done = []
        for connection_id, customer_id in self._targets(
            hub, event.merchant_id, voucher.get("member_id")
        ):
            store = self.open_store(hub, connection_id)
            if store is None:
                continue
            self.create_discount(hub, store, voucher, customer_id)
            done.append(connection_id)
            log.info(
                "voucher %s created in %s connection %s", voucher["code"], self.name, connection_id
            )
        if done and voucher_status(hub, event.merchant_id, voucher["code"]) == "cancelled":
            self.withdraw_code(hub, event.merchant_id, voucher["code"])
        return done

    def withdraw_voucher(self, hub: Hub, event: Event) -> list[int]:
        """Withdraw a cancelled voucher's discount: the member got their points back."""
        if event.data.get("kind") not in self.voucher_kinds:
            return []
        return self.withdraw_code(hub, event.merchant_id, event.data["code"])

    def _targets(
        self, hub: Hub, merchant_id: int, member_id: int | None
    ) -> list[tuple[int, str | None]]:
        """The merchant's active connections, each with the member's customer id there."""
        with hub.db.session() as session:
            ids = active_connection_ids(session, self.name, merchant_id=merchant_id)
            known = {}
            if member_id is not None:
                known = {i.connection_id: i.external_id for i in identities_of(session, member_id)}
        return [(connection_id, known.get(connection_id)) for connection_id in ids]


# -- the table of installs -------------------------------------------------------


class StoreInstall:
    """The columns every table of installs has beside its store key (its primary key).

    A connector's install model is ``class ShopInstall(StoreInstall, Model)`` with a
    ``__tablename__`` and the store's key column: one row per store, naming the one
    connection whose OAuth installed the app there.
    """

    connection_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("connections.id", ondelete="CASCADE"), unique=True
    )
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def claim_install(session: Session, model: type[Model], key: str, connection_id: int) -> None:
    """Record, in the caller's transaction, that ``connection_id`` completed OAuth for ``key``.

    A later OAuth for the same store (a reinstall, or a store moved to another
    merchant with its owner's consent) takes the row over.
    """
    column = inspect(model).primary_key[0].key
    for _attempt in (1, 2):
        install = session.get(model, key, with_for_update=True)
        if install is not None:
            install.connection_id = connection_id
            install.installed_at = utcnow()
            return
        try:
            with session.begin_nested():
                session.add(model(**{column: key, "connection_id": connection_id}))
            return
        except IntegrityError:
            continue  # a concurrent OAuth for the same store inserted first: take it over
    raise PermanentError(f"could not record the install of {key} in {model.__tablename__}")


def installed_connection(session: Session, model: type[Model], key: str) -> Connection | None:
    """Return the connection that completed OAuth for store ``key``, unless it was deleted."""
    column = inspect(model).primary_key[0]
    return session.scalar(
        select(Connection)
        .join(model, model.connection_id == Connection.id)
        .where(column == key, Connection.status != "deleted")
    )


def open_connection(hub: Hub, connector: str, connection_id: int) -> StoreConnection | None:
    """The connection if it is an active one of ``connector`` with an access token, else None.

    Every outgoing call of a store connector starts here: a disabled,
    uninstalled or deleted connection makes no call at all.
    """
    with hub.db.session() as session:
        connection = session.get(Connection, connection_id)
        if connection is None or connection.connector != connector:
            return None
        if connection.status != "active":
            return None
        session.expunge(connection)
    secrets = connection_secrets(hub, connection)
    if not secrets.get("access_token"):
        return None
    return StoreConnection(connection, secrets)


def update_connection_settings(hub: Hub, connection_id: int, changes: dict[str, Any]) -> None:
    """Merge ``changes`` into the connection's settings in a transaction of its own."""
    with hub.db.transaction() as session:
        connection = session.get(Connection, connection_id, with_for_update=True)
        connection.settings = {**(connection.settings or {}), **changes}


def public_url(hub: Hub, platform: str) -> str:
    """The hub's public base URL, which a store's webhooks and scripts point at.

    :raise PermanentError: ``HUB_PUBLIC_URL`` is not set, naming the fix.
    """
    url = hub.config.get("HUB_PUBLIC_URL")
    if not url:
        raise PermanentError(
            f"HUB_PUBLIC_URL is not set: {platform} needs the hub's public https URL for "
            f"webhooks and the widget; set it and run the store setup again"
        )
    return url.rstrip("/")
