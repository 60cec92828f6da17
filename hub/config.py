"""Load the hub's configuration from defaults, an instance file and the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

#: Every setting the hub reads, with its default. The README's table is drawn from here.
DEFAULTS: dict[str, Any] = {
    "HUB_DATABASE_URL": None,  # None: an SQLite file in the instance folder
    "HUB_DB_POOL_SIZE": 10,  # connections each process keeps open to PostgreSQL
    "HUB_DB_MAX_OVERFLOW": 20,  # extra connections a busy process may open
    "HUB_DB_PRE_PING": False,  # test each pooled connection before each checkout
    "HUB_REDIS_URL": None,  # None: jobs in the database, run by hub serve (or inline)
    "HUB_REDIS_PREFIX": "hub",  # prefix of every Redis key and rq queue name
    "HUB_SECRET_KEY": None,  # signs sessions, derives the key that encrypts secrets
    "HUB_DISABLE_PLUGINS": "",  # comma-separated plugin names to block
    "HUB_LOAD_ENTRYPOINTS": True,  # load plugins from the hub.plugins entry points
    "HUB_MAX_BODY_BYTES": 1024 * 1024,  # larger request bodies answer 413
    "HUB_MAX_IMPORT_BYTES": 256 * 1024 * 1024,  # larger members files answer 413
    "HUB_IDEMPOTENCY_TTL_HOURS": 24,
    "HUB_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
    "HUB_DEFAULT_CURRENCY": "VND",
    "HUB_DEFAULT_LOCALE": "vi",
    "HUB_DEFAULT_REGION": "VN",  # region for phone numbers written without +country
    "HUB_JOB_TIMEOUT": 300,
    "HUB_LOG_LEVEL": "INFO",
    "HUB_PLUGINS_CONFIG": {},  # per-plugin settings, keyed by plugin name
    "HUB_PUBLIC_URL": None,  # where gateways reach this hub: https://hub.example.com
    "HUB_WEBHOOKS_ALLOW_LOOPBACK": False,  # let outbound webhooks reach 127.0.0.1 (dev, tests)
    "HUB_ALLOW_PRIVATE_TARGETS": False,  # let outside calls reach loopback and private addresses
    "HUB_RUNNER_THREADS": 2,  # job threads of the embedded runner without Redis
    "HUB_METRICS_TOKEN": None,  # bearer token for /metrics; None: loopback requests only
    "HUB_LOG_FORMAT": "text",  # text, or json: one JSON object a line
    "HUB_PASSWORD_HASH_PROFILE": "default",  # argon2 cost of staff passwords; test: cheapest
    "HUB_REPORT_ROLLUPS": True,  # mark report days stale at commit; off: rollups change by rebuild
}

_BOOL = {"1": True, "true": True, "yes": True, "on": True}
_BOOL.update({"0": False, "false": False, "no": False, "off": False, "": False})


def _coerce(name: str, raw: str) -> Any:
    default = DEFAULTS.get(name)
    if isinstance(default, bool):
        if raw.lower() not in _BOOL:
            raise ValueError(f"{name}={raw!r} is not a boolean; use true or false")
        return _BOOL[raw.lower()]
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name}={raw!r} is not a whole number") from None
    return raw


def load_config(instance_path: str | Path, overrides: dict | None = None) -> dict:
    """Return the settings: defaults, then ``hub.cfg.py`` in the instance folder,
    then ``HUB_*`` environment variables, then ``overrides`` (tests, ``create_app``).
    """
    config = dict(DEFAULTS)
    instance_file = Path(instance_path) / "hub.cfg.py"
    if instance_file.exists():
        namespace: dict[str, Any] = {}
        exec(compile(instance_file.read_text(), str(instance_file), "exec"), namespace)
        config.update({k: v for k, v in namespace.items() if k.isupper()})
    for name in DEFAULTS:
        if name in os.environ:
            config[name] = _coerce(name, os.environ[name])
    config.update(overrides or {})
    if not config["HUB_DATABASE_URL"]:
        db_file = Path(instance_path) / "hub.sqlite3"
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        config["HUB_DATABASE_URL"] = f"sqlite:///{db_file}"
    if not config["HUB_SECRET_KEY"]:
        config["HUB_SECRET_KEY"] = _instance_secret(Path(instance_path))
    return config


def _instance_secret(instance_path: Path) -> str:
    """Return a secret kept in the instance folder, made on first use.

    A laptop install needs no setup; production sets ``HUB_SECRET_KEY`` explicitly.
    """
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
