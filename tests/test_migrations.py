"""The migrations build exactly the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from hub.db import Model
from hub.migrate import alembic_config
from hub.migrate import current_heads
from hub.migrate import upgrade


def test_migrated_schema_matches_the_models(hub):
    with hub.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Model.metadata)
    assert differences == []


def test_database_is_at_every_head_and_upgrading_again_changes_nothing(hub):
    heads = set(ScriptDirectory.from_config(alembic_config(hub)).get_heads())
    assert current_heads(hub) == heads
    upgrade(hub)
    assert current_heads(hub) == heads
