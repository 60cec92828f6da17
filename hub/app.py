"""The application factory."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask

from hub import events
from hub import input_guard
from hub.config import load_config
from hub.core import Hub
from hub.errors import StartupError
from hub.logs import configure_logging
from hub.pluginmanager import make_plugin_manager
from hub.registry import Connector
from hub.reports import staleness
from hub.sessions import LazyCookieSessions


def create_app(
    config: dict[str, Any] | None = None,
    *,
    plugins: Iterable[Any] = (),
    instance_path: str | Path | None = None,
) -> Flask:
    """Create and configure the hub's Flask app, with its own plugin manager.

    :param config: settings that win over the environment and the instance file.
    :param plugins: extra plugin objects to register (tests, embedding).
    """
    instance_path = instance_path or os.environ.get("HUB_INSTANCE_PATH") or None
    app = Flask("hub", instance_path=str(Path(instance_path).resolve()) if instance_path else None)
    settings = _checked_settings(app.instance_path, config)
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["HUB_SECRET_KEY"]
    app.config["MAX_CONTENT_LENGTH"] = settings["HUB_MAX_BODY_BYTES"]
    app.session_interface = LazyCookieSessions()
    input_guard.init_app(app)  # before any route: ``<int:...>`` is bounded to 64 bits
    configure_logging(settings["HUB_LOG_LEVEL"], settings["HUB_LOG_FORMAT"])

    pm = make_plugin_manager(
        disabled=str(settings["HUB_DISABLE_PLUGINS"]).split(","),
        load_entrypoints=bool(settings["HUB_LOAD_ENTRYPOINTS"]),
        extra_plugins=plugins,
    )
    hub = Hub(app, settings, pm)
    app.extensions["hub"] = hub
    events.install(hub)
    if settings["HUB_REPORT_ROLLUPS"]:
        staleness.install(hub)  # reports' rollups follow every committed change
    _register_connectors(hub)

    from hub.api import init_api
    from hub.console import init_console
    from hub.pages import init_pages
    from hub.widget import init_widget

    init_api(app)
    init_pages(app)
    init_widget(app)
    init_console(app)
    from hub.probes import init_probes

    init_probes(app)
    for blueprints in pm.hook.register_blueprints(hub=hub):
        for blueprint in blueprints or []:
            app.register_blueprint(blueprint)
    from hub.cli import add_commands

    add_commands(app.cli)
    pm.hook.register_commands(cli=app.cli)
    pm.hook.startup(hub=hub)
    return app


def _register_connectors(hub: Hub) -> None:
    for connectors in hub.pm.hook.register_connectors(hub=hub):
        for connector in connectors or []:
            if not isinstance(connector, Connector) or not connector.name:
                raise StartupError(
                    f"register_connectors answered {connector!r}: return instances of "
                    f"hub.Connector subclasses with a name (see docs/connector-contract.md)"
                )
            if connector.name in hub.connectors:
                raise StartupError(
                    f"two plugins register the connector {connector.name!r}; "
                    f"disable one with HUB_DISABLE_PLUGINS"
                )
            hub.connectors[connector.name] = connector


def _checked_settings(instance_path: str, config: dict[str, Any] | None) -> dict[str, Any]:
    """Load the settings; a malformed one raises ``StartupError`` with the fix."""
    from hub.currencies import check_currency
    from hub.errors import ValidationError
    from hub.health import check_database_url

    try:
        settings = load_config(instance_path, config)
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    check_database_url(settings["HUB_DATABASE_URL"])
    try:
        check_currency(settings["HUB_DEFAULT_CURRENCY"])
    except ValidationError as exc:
        raise StartupError(f"HUB_DEFAULT_CURRENCY: {exc.message}") from None
    return settings
