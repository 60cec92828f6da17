"""What the hub needs to run, checked: the database, its schema, Redis.

Each check returns ``None`` when all is well, or one line that says what is
wrong and what to do. ``hub serve``, ``hub worker`` and every other command
turn a failing check into that line (exit status 2); ``/readyz`` answers 503
with it. No line ever carries a password: URLs are shown without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hub.errors import StartupError

if TYPE_CHECKING:
    from hub.core import Hub

#: The database URL schemes the hub runs on.
SUPPORTED_SCHEMES = ("postgresql", "postgresql+psycopg", "sqlite", "sqlite+pysqlite")

_URL_HELP = "use postgresql://USER:PASSWORD@HOST:5432/DBNAME or sqlite:////path/to/hub.sqlite3"


def shown_url(url: str) -> str:
    """``url`` as it may be printed: the password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable)"


def check_database_url(url: str) -> None:
    """Raise ``StartupError`` unless ``url`` is a database URL the hub can use."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StartupError(f"HUB_DATABASE_URL is not a database URL: {_URL_HELP}") from None
    if parsed.drivername not in SUPPORTED_SCHEMES:
        raise StartupError(
            f"HUB_DATABASE_URL uses {parsed.drivername}://, which the hub does not support: "
            f"{_URL_HELP}"
        )


def database_problem(hub: Hub) -> str | None:
    """Connect to the database once; say why it failed, if it did."""
    try:
        with hub.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return explain_database_error(hub, exc)
    return None


def explain_database_error(hub: Hub, exc: BaseException) -> str:
    """One line for a failure to reach the database: what failed and what to do."""
    url = make_url(hub.db.url)
    shown = shown_url(hub.db.url)
    reason = _first_line(getattr(exc, "orig", None) or exc)
    if hub.db.is_sqlite:
        return (
            f"cannot open the SQLite database {url.database} ({reason}): check that its folder "
            f"exists and is writable, or set HUB_DATABASE_URL"
        )
    if "does not exist" in reason and f'database "{url.database}"' in reason:
        return (
            f"the database {url.database!r} does not exist on {url.host}:{url.port or 5432}: "
            f"create it (createdb -h {url.host} -U {url.username or 'postgres'} {url.database}) "
            f"or fix HUB_DATABASE_URL ({shown})"
        )
    return (
        f"cannot reach the database at {shown} ({reason}): check that PostgreSQL is running "
        f"there and that HUB_DATABASE_URL is right"
    )


def schema_problem(hub: Hub) -> str | None:
    """Compare the database's migrations with the code's; say what to run if they differ."""
    from alembic.script import ScriptDirectory

    from hub.migrate import alembic_config
    from hub.migrate import current_heads

    expected = hub.app.extensions.get("hub.schema_heads")
    if expected is None:
        # The code's migrations do not change while the process runs: read them once.
        expected = set(ScriptDirectory.from_config(alembic_config(hub)).get_heads())
        hub.app.extensions["hub.schema_heads"] = expected
    try:
        current = current_heads(hub)
    except Exception as exc:
        return explain_database_error(hub, exc)
    if current == expected:
        return None
    if not current:
        return "the database has no schema yet: run `hub db upgrade`"
    if current - expected:
        return (
            f"the database is at revision {', '.join(sorted(current))}, which this version of "
            f"the hub does not know: run the hub version that migrated it, or a newer one"
        )
    return (
        f"the database schema is behind this version of the hub "
        f"(at {', '.join(sorted(current))}): run `hub db upgrade`"
    )


def redis_problem(hub: Hub) -> str | None:
    """Ping Redis when ``HUB_REDIS_URL`` is set; say why it failed, if it did."""
    if hub.jobs.is_inline:
        return None
    try:
        hub.jobs.redis.ping()
    except Exception as exc:
        return explain_redis_error(hub, exc)
    return None


def explain_redis_error(hub: Hub, exc: BaseException) -> str:
    """One line for a failure to reach Redis: what failed and what to do."""
    return (
        f"cannot reach Redis at {shown_url(hub.jobs.redis_url or '')} ({_first_line(exc)}): "
        f"check that Redis is running there and that HUB_REDIS_URL is right"
    )


def _first_line(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    message = message.removeprefix("connection failed: ").replace("FATAL:  ", "")
    return message.rstrip(".")
