"""Run the Alembic migrations of the core and of every plugin that ships some."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from hub.core import Hub

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(hub: Hub) -> Config:
    config = Config()
    locations = [str(MIGRATIONS / "versions")]
    for folders in hub.pm.hook.register_migrations(hub=hub):
        locations.extend(str(folder) for folder in folders or [])
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    config.attributes["engine"] = hub.db.engine
    return config


def upgrade(hub: Hub, revision: str = "heads") -> None:
    """Bring the database schema up to date; running it twice changes nothing."""
    command.upgrade(alembic_config(hub), revision)


def current_heads(hub: Hub) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with hub.db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())
