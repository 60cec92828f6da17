"""Startup hooks: startup, register_blueprints, register_connectors, register_migrations."""

import pytest
from flask import Blueprint

from hub import Connector
from hub import StartupError
from hub import hookimpl
from hub.testing import make_app


def test_hook_startup_runs_once_with_the_hub(database_url):
    calls = []

    class Plugin:
        @hookimpl
        def startup(self, hub):
            calls.append(hub)

    app = make_app(database_url, plugins=[Plugin()])
    assert calls == [app.extensions["hub"]]


def test_hook_startup_error_stops_the_boot_with_its_message(database_url):
    class Strict:
        @hookimpl
        def startup(self, hub):
            if not hub.plugin_config("strict").get("token"):
                raise StartupError("strict: set HUB_PLUGINS_CONFIG['strict']['token']")

    with pytest.raises(StartupError, match="set HUB_PLUGINS_CONFIG"):
        make_app(database_url, plugins=[Strict()])
    app = make_app(
        database_url, plugins=[Strict()], config={"HUB_PLUGINS_CONFIG": {"strict": {"token": "x"}}}
    )
    assert app.extensions["hub"].plugin_config("strict") == {"token": "x"}


def test_hook_register_blueprints_mounts_routes(database_url):
    bp = Blueprint("extra", __name__)

    @bp.get("/extra/ping")
    def ping():
        return {"pong": True}

    class Plugin:
        @hookimpl
        def register_blueprints(self):
            return [bp]

    app = make_app(database_url, plugins=[Plugin()])
    assert app.test_client().get("/extra/ping").json == {"pong": True}


def test_hook_register_connectors_makes_a_connector_connectable(database_url):
    class Plugin:
        @hookimpl
        def register_connectors(self):
            class Sapo(Connector):
                name = "sapo"
                title = "Sapo"

            return [Sapo()]

    app = make_app(database_url, plugins=[Plugin()])
    from hub.testing import ApiClient
    from hub.testing import create_test_merchant

    api = ApiClient(app.test_client(), create_test_merchant(app.extensions["hub"]))
    created = api.post("/api/v1/connections", json={"connector": "sapo"})
    refused = api.post("/api/v1/connections", json={"connector": "nope"})

    assert created.status_code == 201
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "unknown_connector"
    assert "sapo" in refused.json["error"]["message"]


def test_hook_register_migrations_adds_a_plugin_branch(tmp_path):
    versions = tmp_path / "migrations"
    versions.mkdir()
    (versions / "p1_notes.py").write_text(
        '"""plugin notes table"""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n"
        "revision = 'p1_notes'\n"
        "down_revision = None\n"
        "branch_labels = ('notes',)\n"
        "depends_on = '0001_core'\n\n"
        "def upgrade():\n"
        "    op.create_table('plugin_notes', sa.Column('id', sa.Integer, primary_key=True))\n\n"
        "def downgrade():\n"
        "    op.drop_table('plugin_notes')\n"
    )

    class Plugin:
        @hookimpl
        def register_migrations(self):
            return [str(versions)]

    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    app = make_app(url, plugins=[Plugin()])
    from sqlalchemy import inspect

    from hub.migrate import current_heads
    from hub.migrate import upgrade

    hub = app.extensions["hub"]
    upgrade(hub)
    assert "plugin_notes" in inspect(hub.db.engine).get_table_names()
    assert "members" in inspect(hub.db.engine).get_table_names()
    assert "p1_notes" in current_heads(hub)
    hub.db.dispose()


def test_connection_secrets_are_stored_encrypted_and_never_returned(api, hub):
    response = api.post(
        "/api/v1/connections",
        json={"connector": "api", "name": "site", "secrets": {"webhook_secret": "s3cr3t-v4lue"}},
    )
    body = response.json
    assert response.status_code == 201
    assert body["secret_names"] == ["webhook_secret"]
    assert "s3cr3t-v4lue" not in response.get_data(as_text=True)
    from hub.merchants.connections import connection_secrets
    from hub.models import Connection

    with hub.db.session() as session:
        row = session.get(Connection, body["id"])
        assert "s3cr3t-v4lue" not in row.secrets_encrypted
        assert connection_secrets(hub, row) == {"webhook_secret": "s3cr3t-v4lue"}


def test_deleted_connection_is_gone_from_the_api(api):
    connection = api.post("/api/v1/connections", json={"connector": "api"}).json
    assert api.delete(f"/api/v1/connections/{connection['id']}").status_code == 204
    assert api.get(f"/api/v1/connections/{connection['id']}").status_code == 404
    assert api.get("/api/v1/connections").json == []
