"""Upgrading records which connection completed OAuth for each store, from the audit log."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import select

from connectors.haravan.installs import HaravanInstall
from connectors.shopify.installs import ShopifyInstall
from hub import record_audit
from hub.migrate import alembic_config
from hub.migrate import upgrade
from hub.models import Connection

CASES = [
    ("shopify", "shopify_oauth", "shop", "hoa-mai.myshopify.com", ShopifyInstall, "shopify@base"),
    ("haravan", "haravan_oauth", "org_id", "1000114691", HaravanInstall, "haravan_0001"),
]


def _connection(hub, merchant, connector, settings, *, oauth=None):
    with hub.db.transaction() as session:
        connection = Connection(
            merchant_id=merchant.id,
            connector=connector,
            name=connector,
            settings=settings,
            secrets_encrypted=hub.secrets.encrypt({}),
        )
        session.add(connection)
        session.flush()
        if oauth is not None:
            actor, data = oauth
            record_audit(
                session,
                merchant.id,
                actor=actor,
                action="connection.installed",
                object_type="connection",
                object_id=connection.id,
                data=data,
            )
        return connection.id


@pytest.mark.parametrize(("connector", "actor", "key", "store", "table", "before"), CASES)
def test_upgrading_records_the_newest_oauth_install_of_each_store(
    hub, merchant, other_merchant, connector, actor, key, store, table, before
):
    # Given an older OAuth install, a newer one of the same store by another merchant,
    # and a connection made through the API that only names the store
    _connection(hub, merchant, connector, {key: store}, oauth=(actor, {key: store}))
    newest = _connection(hub, other_merchant, connector, {key: store}, oauth=(actor, {key: store}))
    _connection(hub, merchant, connector, {key: store})
    # When the database is upgraded from before the installs table
    command.downgrade(alembic_config(hub), before)
    upgrade(hub)
    # Then the store belongs to the newest OAuth install only
    with hub.db.session() as session:
        rows = session.scalars(select(table)).all()
    assert [(getattr(r, key), r.connection_id) for r in rows] == [(store, newest)]
