"""The ``hub`` command group: the hub's own options, and bad settings as one line.

Flask's own group would add ``--env-file``, ``--app`` and ``--debug`` and show
a traceback when the app cannot be made; this one loads the hub's app lazily
(plugins add their commands to it) and turns every failure that a setting
causes into ``Error: <what is wrong and what to do>`` with exit status 2.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask import current_app
from flask.cli import ScriptInfo

from hub.errors import StartupError

#: Commands that libraries register on the app's CLI and that are not the hub's.
FOREIGN_COMMANDS = frozenset({"openapi", "routes", "shell", "run"})

#: Commands that run on the embedded database without upgrading it first (``remote``
#: uses no local database at all).
_NO_UPGRADE = frozenset({"db", "plugin", "plugins", "simulate", "remote"})

#: Exit status of a command stopped by a bad setting (click's status for bad usage).
SETTINGS_EXIT = 2


class SettingsError(click.ClickException):
    """A setting (or what it points at) is wrong: one line, exit status 2."""

    exit_code = SETTINGS_EXIT


def hub_version() -> str:
    """The installed version of the hub."""
    try:
        return version("storefront-hub")
    except PackageNotFoundError:
        return "unknown"


def upgrade_embedded(app: Flask) -> None:
    """On the embedded SQLite default, bring the schema up to date before a command runs.

    A laptop install needs no ``hub db upgrade``: the file in the instance
    folder is created and migrated on first use. A configured database is
    never migrated behind the operator's back.
    """
    hub = app.extensions["hub"]
    if hub.db.url != f"sqlite:///{Path(app.instance_path) / 'hub.sqlite3'}":
        return
    from hub.health import schema_problem
    from hub.migrate import upgrade

    if schema_problem(hub) is not None:
        upgrade(hub)


def _create_app() -> Flask:
    from hub.app import create_app

    return create_app()


class HubGroup(click.Group):
    """The top-level ``hub`` group: core commands always, plugin commands once the app loads."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=_create_app, set_debug_flag=False, load_dotenv_defaults=False
            )
        return super().make_context(info_name, args, parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        try:
            app = ctx.ensure_object(ScriptInfo).load_app()
        except Exception:
            # Help still lists the core's commands; running one reports the problem.
            return sorted(names)
        names.update(app.cli.list_commands(ctx))
        return sorted(names - FOREIGN_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None or name in FOREIGN_COMMANDS:
            return command
        app = _guarded(lambda: ctx.ensure_object(ScriptInfo).load_app(), ctx)
        if not current_app or current_app._get_current_object() is not app:
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        def run() -> Any:
            args = [*ctx._protected_args, *ctx.args]
            if args and args[0] not in _NO_UPGRADE and "--help" not in args:
                upgrade_embedded(ctx.ensure_object(ScriptInfo).load_app())
            return super(HubGroup, self).invoke(ctx)

        return _guarded(run, ctx)


def _guarded(call: Any, ctx: click.Context) -> Any:
    """Run ``call``; a failure a setting caused becomes a ``SettingsError``."""
    try:
        return call()
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except StartupError as exc:
        raise SettingsError(str(exc)) from None
    except Exception as exc:
        line = explain(ctx, exc)
        if line is None:
            raise
        raise SettingsError(line) from None


def explain(ctx: click.Context, exc: Exception) -> str | None:
    """Say what setting ``exc`` comes from, or None when it is not a setting's fault."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import DBAPIError

    from hub.health import database_problem
    from hub.health import explain_redis_error
    from hub.health import schema_problem

    info = ctx.find_object(ScriptInfo)
    app = getattr(info, "_loaded_app", None)
    if app is None:
        return None
    hub = app.extensions["hub"]
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return explain_redis_error(hub, exc)
    if isinstance(exc, DBAPIError):
        return database_problem(hub) or schema_problem(hub)
    return None


def require_ready(hub: Any, *, redis: bool = False) -> None:
    """Stop with one line unless the database answers, its schema is at head and,
    with ``redis``, Redis answers: a long-running command checks before it starts."""
    from hub.health import database_problem
    from hub.health import redis_problem
    from hub.health import schema_problem

    checks = [database_problem, schema_problem]
    if redis:
        checks.insert(0, redis_problem)
    for check in checks:
        line = check(hub)
        if line is not None:
            raise SettingsError(line)
