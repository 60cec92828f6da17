"""Configuration sources, and the column types that keep money and time exact."""

from datetime import datetime
from decimal import Decimal

import pytest

from hub.config import load_config
from hub.db import Money
from hub.db import UTCDateTime


def test_defaults_need_nothing_set(tmp_path, monkeypatch):
    for name in ("HUB_DATABASE_URL", "HUB_REDIS_URL", "HUB_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(tmp_path)
    assert config["HUB_DATABASE_URL"] == f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    assert config["HUB_REDIS_URL"] is None
    assert len(config["HUB_SECRET_KEY"]) > 40
    assert load_config(tmp_path)["HUB_SECRET_KEY"] == config["HUB_SECRET_KEY"]
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_environment_wins_over_the_instance_file(tmp_path, monkeypatch):
    (tmp_path / "hub.cfg.py").write_text(
        "HUB_REDIS_PREFIX = 'from-file'\nHUB_MAX_BODY_BYTES = 2048\n"
    )
    monkeypatch.setenv("HUB_REDIS_PREFIX", "from-env")
    config = load_config(tmp_path)
    assert config["HUB_REDIS_PREFIX"] == "from-env"
    assert config["HUB_MAX_BODY_BYTES"] == 2048


def test_environment_values_are_typed(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_LOAD_ENTRYPOINTS", "false")
    monkeypatch.setenv("HUB_MAX_BODY_BYTES", "4096")
    config = load_config(tmp_path)
    assert config["HUB_LOAD_ENTRYPOINTS"] is False
    assert config["HUB_MAX_BODY_BYTES"] == 4096


@pytest.mark.parametrize(("name", "value"), [("HUB_LOAD_ENTRYPOINTS", "maybe"),
                                             ("HUB_MAX_BODY_BYTES", "lots")])  # fmt: skip
def test_malformed_environment_values_name_the_setting(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        load_config(tmp_path)


def test_money_keeps_every_digit_on_either_database(hub):
    from sqlalchemy import Column
    from sqlalchemy import Integer
    from sqlalchemy import MetaData
    from sqlalchemy import Table
    from sqlalchemy import insert
    from sqlalchemy import select

    table = Table(
        "money_probe", MetaData(), Column("id", Integer, primary_key=True), Column("v", Money())
    )
    table.create(hub.db.engine)
    amounts = [Decimal("0.1"), Decimal("1234567890123456.7891"), Decimal("19999999.99")]
    with hub.db.engine.begin() as connection:
        connection.execute(insert(table), [{"v": a} for a in amounts])
        stored = [row.v for row in connection.execute(select(table).order_by(table.c.id))]
    table.drop(hub.db.engine)
    assert stored == amounts


def test_money_refuses_floats():
    with pytest.raises(TypeError, match="Decimal"):
        Money().process_bind_param(0.1, dialect=type("D", (), {"name": "sqlite"})())


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), dialect=None)


def test_readyz_reports_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"


def test_readyz_reports_an_unreachable_redis(database_url, tmp_path):
    from hub.testing import make_app

    app = make_app(
        database_url, config={"HUB_REDIS_URL": "redis://127.0.0.1:1/0"}, instance_path=tmp_path
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "schema": "ok", "redis": "failed"}


def test_connections_the_server_dropped_fail_one_statement_then_the_pool_renews(hub):
    import sqlalchemy
    from sqlalchemy import text

    if hub.db.is_sqlite:
        pytest.skip("a PostgreSQL server drops connections; an SQLite file does not")
    with hub.db.session() as session:
        ours = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = sqlalchemy.create_engine(hub.db.engine.url, poolclass=sqlalchemy.pool.NullPool)
    with admin.connect() as connection:  # as a server restart would
        assert connection.execute(text("SELECT pg_terminate_backend(:p)"), {"p": ours}).scalar()
    admin.dispose()

    with pytest.raises(sqlalchemy.exc.OperationalError), hub.db.session() as session:
        session.execute(text("SELECT 1"))
    with hub.db.session() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1


def test_with_pre_ping_a_dropped_connection_is_never_seen(database_url, tmp_path):
    import sqlalchemy
    from sqlalchemy import text

    from hub.testing import make_app

    app = make_app(database_url, config={"HUB_DB_PRE_PING": True}, instance_path=tmp_path)
    hub = app.extensions["hub"]
    try:
        if hub.db.is_sqlite:
            pytest.skip("a PostgreSQL server drops connections; an SQLite file does not")
        with hub.db.session() as session:
            ours = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        admin = sqlalchemy.create_engine(hub.db.engine.url, poolclass=sqlalchemy.pool.NullPool)
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:p)"), {"p": ours})
        admin.dispose()
        with hub.db.session() as session:
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        hub.db.dispose()


def test_the_hubs_own_driver_connections_are_reused_renewed_after_a_drop_and_closed(hub):
    import threading

    import sqlalchemy
    from sqlalchemy import text

    if hub.db.is_sqlite:
        pytest.skip("driver connections of its own are for PostgreSQL")

    def backend() -> int:
        with hub.db.driver_connection() as connection:
            return connection.execute("SELECT pg_backend_pid()").fetchone()[0]

    first = backend()
    assert backend() == first  # given back, then taken again
    with hub.db.driver_connection() as held:  # two at once are two connections
        assert backend() != held.execute("SELECT pg_backend_pid()").fetchone()[0]
    seen = []
    thread = threading.Thread(target=lambda: seen.append(backend()))
    thread.start()
    thread.join()
    assert seen == [first]  # the last given back is the next taken, by any thread

    admin = sqlalchemy.create_engine(hub.db.engine.url, poolclass=sqlalchemy.pool.NullPool)
    with admin.connect() as connection:  # as a server restart would
        assert connection.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar()
    admin.dispose()
    with pytest.raises(hub.db.driver_error), hub.db.driver_connection() as connection:
        connection.execute("SELECT 1")
    renewed = backend()
    assert renewed != first

    with hub.db.driver_connection() as connection:
        pass
    hub.db.dispose()
    assert connection.closed


def test_run_prepared_sends_every_kind_of_value_and_prepares_once_per_connection(hub):
    from datetime import UTC
    from datetime import datetime
    from decimal import Decimal

    if hub.db.is_sqlite:
        pytest.skip("prepared statements of the protocol are for PostgreSQL")
    sql = (
        "SELECT %s::text, %s::bigint, %s::boolean, %s::numeric, %s::timestamptz,"
        " %s::bytea = '\\x00ff'::bytea, %s::text IS NULL"
    )
    when = datetime(2026, 11, 24, 9, 30, 15, 250000, tzinfo=UTC)
    args = ("Trà sữa 'O'", 2**40, True, Decimal("12.50"), when, b"\x00\xff", None)
    with hub.db.driver_connection() as connection:
        connection.execute("SET TIME ZONE 'UTC'")
        rows = hub.db.run_prepared(connection, "test_values", sql, args)
        again = hub.db.run_prepared(
            connection, "test_values", sql, ("x", 1, False, 0, when, b"", "")
        )
        prepared = connection.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name = 'test_values'"
        ).fetchone()[0]
    assert rows == [
        (
            "Trà sữa 'O'".encode(),
            b"1099511627776",
            b"t",
            b"12.50",
            b"2026-11-24 09:30:15.25+00",
            b"t",
            b"t",
        )
    ]
    assert again[0][:3] == (b"x", b"1", b"f") and again[0][5:] == (b"f", b"f")
    assert prepared == 1  # prepared by the first call, reused by the second

    with hub.db.driver_connection() as connection, pytest.raises(ValueError):
        hub.db.run_prepared(connection, "test_naive", "SELECT %s::timestamptz", (datetime.now(),))
    with hub.db.driver_connection() as connection, pytest.raises(ValueError):
        hub.db.run_prepared(connection, "test_percent", "SELECT '100%%' || %s::text", ("x",))


def test_a_failed_prepared_statement_raises_the_drivers_error_and_replaces_the_connection(hub):
    if hub.db.is_sqlite:
        pytest.skip("prepared statements of the protocol are for PostgreSQL")
    with hub.db.driver_connection() as connection:
        first = connection.execute("SELECT pg_backend_pid()").fetchone()[0]
    failing = pytest.raises(hub.db.driver_error, match="division by zero")
    with failing, hub.db.driver_connection() as connection:
        hub.db.run_prepared(connection, "test_divide", "SELECT 1 / %s::int", (0,))
    assert connection.closed
    with hub.db.driver_connection() as connection:
        assert connection.execute("SELECT pg_backend_pid()").fetchone()[0] != first
        # A new connection prepares the statement again.
        assert hub.db.run_prepared(connection, "test_divide", "SELECT 1 / %s::int", (1,)) == [
            (b"1",)
        ]


def test_active_connection_ids_name_one_connectors_active_connections(hub):
    from hub import active_connection_ids
    from hub.merchants.accounts import create_merchant
    from hub.merchants.connections import create_connection
    from hub.models import Connection

    with hub.db.transaction() as session:
        first, second = create_merchant(session, "Hoa"), create_merchant(session, "Mai")
        made = {
            (merchant.id, connector, status): create_connection(
                hub, session, merchant.id, connector=connector, secrets={"webhook_secret": "t"}
            )
            for merchant in (first, second)
            for connector in ("custom", "api")
            for status in ("active", "disabled")
        }
        for (_, _, status), connection in made.items():
            session.get(Connection, connection.id).status = status
        ids = {key: connection.id for key, connection in made.items()}
    with hub.db.session() as session:
        everyone = active_connection_ids(session, "custom")
        one = active_connection_ids(session, "custom", merchant_id=second.id)
    assert everyone == [ids[(first.id, "custom", "active")], ids[(second.id, "custom", "active")]]
    assert one == [ids[(second.id, "custom", "active")]]
