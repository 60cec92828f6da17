"""Alembic environment: the engine comes from the running hub, never from a file."""

from __future__ import annotations

from alembic import context

import hub.models  # noqa: F401 - registers the core's tables
from hub.db import Model

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Model.metadata,
        render_as_batch=engine.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
