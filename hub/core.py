"""The ``Hub``: what every hook receives, one per app."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from typing import Any

import pluggy
from flask import current_app

from hub.crypto import SecretBox
from hub.db import Database
from hub.jobs import Jobs
from hub.registry import Connector
from hub.registry import UnknownConnector

if TYPE_CHECKING:
    from flask import Flask


class Hub:
    """The running hub: configuration, database, plugin manager and jobs.

    Plugins receive it as ``hub`` in every hook. Its attributes are the public
    way in: ``hub.db.transaction()``, ``hub.jobs.enqueue(...)``,
    ``hub.plugin_config(name)``, ``hub.secrets.encrypt(...)``.
    """

    def __init__(self, app: Flask, config: dict[str, Any], pm: pluggy.PluginManager):
        self.app = app
        self.config = config
        self.pm = pm
        self.db = Database(
            config["HUB_DATABASE_URL"],
            pool_size=config["HUB_DB_POOL_SIZE"],
            max_overflow=config["HUB_DB_MAX_OVERFLOW"],
            pre_ping=config["HUB_DB_PRE_PING"],
        )
        self.jobs = Jobs(self)
        self.secrets = SecretBox(config["HUB_SECRET_KEY"])
        self.pid = os.getpid()
        self.connectors: dict[str, Connector] = {}

    def connector(self, name: str) -> Connector:
        """Return the connector object registered as ``name``.

        :raise UnknownConnector: no installed plugin registers ``name`` (a 404
            with the installed names and the fix).
        """
        try:
            return self.connectors[name]
        except KeyError:
            raise UnknownConnector(name, list(self.connectors)) from None

    def plugin_config(self, name: str) -> dict[str, Any]:
        """Return the settings for plugin ``name`` from ``HUB_PLUGINS_CONFIG``."""
        return dict(self.config.get("HUB_PLUGINS_CONFIG", {}).get(name) or {})

    def after_fork(self) -> None:
        """Drop connections inherited from a parent process (rq's work horse)."""
        self.db.engine.dispose(close=False)
        self.pid = os.getpid()


def current_hub() -> Hub:
    """Return the hub of the current app context (request, job or CLI command)."""
    return current_app.extensions["hub"]
