"""The generic POS connector: a counter API any point-of-sale can call, and a cashier page.

A merchant creates a ``pos`` connection per shop (its ``location`` setting
names the shop), makes a key for its tills, and points the till (or a
tablet's browser, at ``/pos/cashier``) at the hub. See docs/connectors/pos.md.
"""

from __future__ import annotations

from pathlib import Path

from connectors.pos import keys
from connectors.pos import models  # noqa: F401 - registers the tables on hub.Model
from connectors.pos.admin_api import blp as admin_blueprint
from connectors.pos.api import bp as counter_blueprint
from connectors.pos.cashier import bp as cashier_blueprint
from connectors.pos.keys import CONNECTOR
from connectors.pos.sales import MEMBER_REF
from connectors.pos.settings import PosSettingsSchema
from hub import AccessKey
from hub import Connection
from hub import Connector
from hub import IssuedAccessKey
from hub import Member
from hub import hookimpl
from hub import register_api_blueprint

MIGRATIONS = Path(__file__).parent / "migrations"


class PosConnector(Connector):
    """Tills that call the counter API with a POS key: no webhooks, no messages."""

    name = CONNECTOR
    title = "Point of sale (counter API)"
    kind = "pos"
    description = (
        "Any till calls /pos/v1 with a POS key: look members up, enrol them, record "
        "sales (also a backlog sent late), redeem points and burn vouchers. The "
        "cashier page at /pos/cashier does the same in a browser."
    )
    settings_schema = PosSettingsSchema

    # The same key functions answer /api/v1/pos/connections/<id>/keys.

    def access_keys(self, hub, session, connection):
        rows = keys.list_keys(session, connection.merchant_id, connection.id)
        return [
            AccessKey(row.id, row.name, row.prefix, row.created_at, row.revoked_at)
            for row in reversed(rows)
        ]

    def issue_access_key(self, hub, session, connection, name, actor):
        issued = keys.issue_key(
            session, connection.merchant_id, connection.id, name=name, actor=actor
        )
        return IssuedAccessKey(issued.id, issued.name, issued.prefix, issued.key)

    def revoke_access_key(self, hub, session, connection, key_id, actor):
        keys.revoke_key(session, connection.merchant_id, connection.id, key_id, actor=actor)

    def device_url(self, hub, connection):
        return "/pos/cashier"


@hookimpl
def register_connectors(hub):
    return [PosConnector()]


@hookimpl
def register_api_interfaces(hub):
    from connectors.pos.openapi import counter_interface

    return [counter_interface()]


@hookimpl
def register_blueprints(hub):
    register_api_blueprint(hub.app, admin_blueprint)
    return [counter_blueprint, cashier_blueprint]


@hookimpl
def register_commands(cli):
    from connectors.pos.cli import pos_group

    cli.add_command(pos_group)


@hookimpl
def register_migrations(hub):
    return [str(MIGRATIONS)]


@hookimpl
def member_for_customer(hub, session, merchant_id, connection_id, customer):
    """A counter's sale names the member the counter already identified; take that one.

    Sales carry ``hub-member:<id>`` as the customer id. Any other customer,
    and every other connector's, is left to the other implementations.
    """
    reference = customer.external_id or ""
    if connection_id is None or not reference.startswith(MEMBER_REF):
        return None
    connection = session.get(Connection, connection_id)
    if connection is None or connection.connector != CONNECTOR:
        return None
    try:
        member = session.get(Member, int(reference.removeprefix(MEMBER_REF)))
    except ValueError:
        return None
    if member is None or member.merchant_id != merchant_id or member.status != "active":
        return None
    return member
