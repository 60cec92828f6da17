"""The deploy files work as written: Dockerfile, compose.yaml, systemd units, gunicorn.conf.py.

No container runs here: the Dockerfile's steps are checked against the
tree (every file it copies exists, every command it runs is the hub's),
compose.yaml is validated by the compose specification's own parser, and
gunicorn really serves the hub with the shipped configuration.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import pytest
from compose_spec import PyOptions
from prometheus_client.parser import text_string_to_metric_families

from hub.cli import cli
from hub.members.directory import create_member
from hub.points import ledger

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "/opt/hub/src"  # where the Dockerfile and the units keep the tree


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            steps.append((keyword.upper(), rest.strip()))
    return steps


def argv(arguments: str) -> list[str]:
    """A CMD/RUN in exec form (JSON) or shell form, as a list of words."""
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def assert_is_a_hub_command(words: list[str]) -> None:
    """``words`` start with ``hub`` and name a command the hub has, with options it takes."""
    assert Path(words[0]).name == "hub", words
    ctx = cli.make_context("hub", list(words[1:]), resilient_parsing=True)
    command: click.Command = cli
    rest = list(words[1:])
    while isinstance(command, click.Group) and rest:
        command = command.get_command(ctx, rest.pop(0))
        assert command is not None, f"no such command: {' '.join(words)}"
    option_names = {name for param in command.params for name in param.opts + param.secondary_opts}
    for word in rest:
        if word.startswith("--"):
            assert word in option_names, f"{' '.join(words)}: no option {word}"


def assert_is_the_shipped_gunicorn(words: list[str]) -> None:
    """``gunicorn -c <the tree's gunicorn.conf.py> hub.wsgi:app``."""
    assert Path(words[0]).name == "gunicorn", words
    config = words[words.index("-c") + 1]
    assert config == f"{SOURCE}/gunicorn.conf.py"
    assert (ROOT / "gunicorn.conf.py").exists()
    module, _, attribute = words[-1].partition(":")
    assert (module, attribute) == ("hub.wsgi", "app")
    assert (ROOT / "hub" / "wsgi.py").exists()


def test_the_dockerfile_copies_files_that_exist_and_installs_the_server_extra():
    steps = dockerfile()
    workdir = next(arguments for keyword, arguments in steps if keyword == "WORKDIR")
    copied = [arguments.split()[:-1] for keyword, arguments in steps if keyword == "COPY"]
    runs = " ".join(arguments for keyword, arguments in steps if keyword == "RUN")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]

    assert workdir == SOURCE
    for sources in copied:
        for source in sources:
            assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is not there"
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package in packages["packages"]["find"]["include"]:
        assert [package.rstrip("*")] in copied, f"the image would miss the package {package}"
    assert 'pip install ".[server]"' in runs
    assert any(requirement.startswith("gunicorn") for requirement in extras["server"])


@pytest.mark.db_agnostic
def test_the_dockerfile_serves_with_gunicorn_and_checks_healthz(app):
    steps = dockerfile()
    [command] = [argv(arguments) for keyword, arguments in steps if keyword == "CMD"]
    [health] = [arguments for keyword, arguments in steps if keyword == "HEALTHCHECK"]
    routes = {rule.rule for rule in app.url_map.iter_rules()}

    assert_is_the_shipped_gunicorn(command)
    probed = re.search(r"http://127\.0\.0\.1:8000(/\w+)", health)
    assert probed is not None and probed.group(1) in routes


def compose() -> dict:
    parsed = PyOptions(apply_merge=True).from_yaml((ROOT / "compose.yaml").read_text())
    parsed.validate()
    return parsed.to_dict()


def test_compose_yaml_is_a_valid_compose_file_with_every_piece():
    services = compose()["services"]

    assert {"db", "redis", "migrate", "web", "worker", "scheduler"} <= set(services)
    for name, service in services.items():
        for needed in service.get("depends_on") or {}:
            assert needed in services, f"{name} depends on {needed}, which is not a service"


def test_compose_runs_hub_commands_that_exist_with_the_settings_they_need():
    services = compose()["services"]

    assert_is_the_shipped_gunicorn(services["web"]["command"])
    for name in ("migrate", "worker", "scheduler"):
        assert_is_a_hub_command(services[name]["command"])
    for name in ("migrate", "web", "worker", "scheduler"):
        environment = services[name]["environment"]
        assert {"HUB_DATABASE_URL", "HUB_REDIS_URL", "HUB_SECRET_KEY"} <= set(environment)
        assert "@db:5432/" in environment["HUB_DATABASE_URL"]
        assert "redis://redis:" in environment["HUB_REDIS_URL"]
    for name in ("web", "worker", "scheduler"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert services["worker"]["command"][-1] == "--no-cron"


@pytest.mark.parametrize("unit", sorted((ROOT / "deploy" / "systemd").glob("*.service")))
def test_each_systemd_unit_starts_a_command_that_exists(unit):
    [start] = [
        line.partition("=")[2]
        for line in unit.read_text().splitlines()
        if line.startswith("ExecStart=")
    ]
    words = shlex.split(start)

    assert words[0].startswith("/opt/hub/venv/bin/")
    assert "EnvironmentFile=/etc/hub/hub.env" in unit.read_text()
    if Path(words[0]).name == "gunicorn":
        assert_is_the_shipped_gunicorn(words)
    else:
        assert_is_a_hub_command(words)


def test_the_example_environment_file_names_only_settings_the_hub_reads():
    from hub.config import DEFAULTS

    lines = (ROOT / "deploy" / "hub.env.example").read_text().splitlines()
    names = {line.lstrip("# ").partition("=")[0] for line in lines if "=" in line}
    names = {name for name in names if name.isupper() and name.startswith("HUB_")}

    assert {"HUB_DATABASE_URL", "HUB_REDIS_URL", "HUB_SECRET_KEY"} <= names
    assert names <= set(DEFAULTS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def healthz_count(page: bytes) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(page.decode())
        for sample in family.samples
        if sample.name == "hub_http_requests_total" and sample.labels["route"] == "/healthz"
    )


@contextmanager
def gunicorn_serving(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Serve the hub with gunicorn and the shipped config, two workers, no Redis; its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "PROMETHEUS_"))}
    env.update(
        HUB_DATABASE_URL=database_url,
        HUB_SECRET_KEY="s" * 32,
        HUB_INSTANCE_PATH=str(tmp_path),
        HUB_BIND=f"127.0.0.1:{port}",
        HUB_WEB_WORKERS="2",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "-c", str(ROOT / "gunicorn.conf.py"), "hub.wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Wait for it to listen (a guard against a server that never starts, not a bound).
        for _ in range(1200):
            try:
                get(f"{base}/healthz")
                break
            except OSError:
                assert server.poll() is None, "gunicorn exited"
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=60)


@pytest.mark.long(7)
@pytest.mark.db_agnostic
def test_gunicorn_with_the_shipped_config_serves_the_hub_and_adds_up_its_workers_metrics(
    database_url, tmp_path
):
    with gunicorn_serving(database_url, tmp_path) as base:
        before = healthz_count(get(f"{base}/metrics")[1])
        answers = [get(f"{base}/healthz")[0] for _ in range(20)]
        ready = get(f"{base}/readyz")
        after = healthz_count(get(f"{base}/metrics")[1])

    assert answers == [200] * 20
    assert ready[0] == 200
    # Whichever worker answers the scrape, it adds up every worker's count.
    assert after - before == 20
    assert len(list((tmp_path / "metrics").glob("counter_*.db"))) >= 1


@pytest.mark.long(7)
def test_gunicorn_without_redis_queues_jobs_on_the_table_and_its_workers_run_them(
    hub, merchant, database_url, tmp_path
):
    with hub.db.transaction() as session:
        member = create_member(session, merchant.id, {"phone": "0912345670"})
        ledger.credit(session, member, 600, kind="earn", key="seed")

    with gunicorn_serving(database_url, tmp_path) as base:
        created = call(
            f"{base}/api/v1/tiers",
            merchant,
            {"name": "Vàng", "threshold": 500, "basis": "points"},
        )
        # A job id: the review went to the job table (run inline, it would have none).
        job_url = f"{base}/api/v1/jobs/{created['review_job_id']}"
        # Polled until a worker's runner has run it (a guard against a hang, not a bound).
        for _ in range(1200):
            job = call(job_url, merchant)
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.1)

    assert (job["status"], job["progress"]) == ("done", {"done": 1, "total": 1})


def call(url: str, merchant, body: dict | None = None) -> dict:
    """GET ``url`` (POST ``body`` when given) with the merchant's key; the JSON answer."""
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={**merchant.headers, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())
