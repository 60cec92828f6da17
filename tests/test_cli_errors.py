"""Bad settings end in one line that says what is wrong and what to do, exit status 2.

Each test runs the ``hub`` command group as the console script does (click's
runner, settings in the environment), except one that runs the installed
script itself in a subprocess.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import unicodedata
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from hub.cli import cli
from hub.testing import create_postgres_database
from hub.testing import drop_postgres_database


@pytest.fixture
def hub_cli(tmp_path):
    """Run ``hub ARGS`` with ``env`` as the only HUB_* settings (None removes one)."""

    def run(*args: str, **env: str | None):
        settings = {name: None for name in os.environ if name.startswith("HUB_")}
        settings.update(HUB_INSTANCE_PATH=str(tmp_path / "instance"), HUB_SECRET_KEY="s" * 32)
        settings.update(env)
        return CliRunner().invoke(cli, list(args), env=settings, prog_name="hub")

    return run


def one_line(result) -> str:
    """The single line a bad setting printed; fails unless it is one line, status 2."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    return lines[0]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unsupported_database_url_names_the_scheme_and_the_ones_that_work(hub_cli):
    line = one_line(hub_cli("merchants", "list", HUB_DATABASE_URL="mysql://shop@db/hub"))

    assert "mysql://" in line
    assert "postgresql://" in line
    assert "sqlite://" in line


def test_an_unparsable_database_url_says_what_a_good_one_looks_like(hub_cli):
    line = one_line(hub_cli("merchants", "list", HUB_DATABASE_URL="::not a url"))

    assert "HUB_DATABASE_URL is not a database URL" in line
    assert "postgresql://" in line


def test_a_database_server_that_cannot_be_reached_is_named_without_its_password(hub_cli):
    url = f"postgresql://shop:hunter2@127.0.0.1:{closed_port()}/hub"

    line = one_line(hub_cli("merchants", "list", HUB_DATABASE_URL=url))

    assert "cannot reach the database" in line
    assert "Connection refused" in line
    assert "hunter2" not in line


def test_an_sqlite_file_in_a_missing_folder_says_to_check_the_folder(hub_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'missing' / 'hub.sqlite3'}"

    line = one_line(hub_cli("merchants", "list", HUB_DATABASE_URL=url))

    assert "cannot open the SQLite database" in line
    assert "folder exists" in line


def test_a_database_that_does_not_exist_says_how_to_create_it(hub_cli, hub, database_url):
    if hub.db.is_sqlite:
        pytest.skip("an SQLite database is a file, created when first opened")
    missing = make_url(database_url).set(database=f"missing_{uuid.uuid4().hex[:8]}")

    line = one_line(hub_cli("merchants", "list", HUB_DATABASE_URL=missing.render_as_string(False)))

    assert f"the database '{missing.database}' does not exist" in line
    assert f"createdb -h {missing.host}" in line


@pytest.fixture
def empty_database_url(hub, database_url, tmp_path):
    """A database the hub can reach that has no schema yet."""
    if hub.db.is_sqlite:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    admin = make_url(database_url).set(database="postgres").render_as_string(False)
    name = f"empty_{uuid.uuid4().hex[:8]}"
    yield create_postgres_database(admin, name)
    drop_postgres_database(admin, name)


def test_a_database_without_the_schema_says_to_run_db_upgrade(hub_cli, empty_database_url):
    line = one_line(hub_cli("merchants", "list", HUB_DATABASE_URL=empty_database_url))

    assert "run `hub db upgrade`" in line


def test_db_upgrade_then_brings_that_database_up_to_date(hub_cli, empty_database_url):
    upgraded = hub_cli("db", "upgrade", HUB_DATABASE_URL=empty_database_url)
    listed = hub_cli("merchants", "list", HUB_DATABASE_URL=empty_database_url)

    assert upgraded.exit_code == 0, upgraded.output
    assert listed.exit_code == 0, listed.output


def test_the_embedded_default_creates_its_schema_on_first_use(hub_cli, tmp_path):
    created = hub_cli("merchants", "create", "Tiệm Bánh", "--json")
    listed = hub_cli("merchants", "list")

    assert created.exit_code == 0, created.output
    assert "Tiệm Bánh" in listed.output
    assert (tmp_path / "instance" / "hub.sqlite3").exists()


def test_serve_stops_before_serving_when_the_database_cannot_be_reached(hub_cli):
    url = f"postgresql://shop@127.0.0.1:{closed_port()}/hub"

    line = one_line(hub_cli("serve", HUB_DATABASE_URL=url))

    assert "cannot reach the database" in line


def test_a_worker_says_redis_cannot_be_reached(hub_cli, database_url):
    redis_url = f"redis://127.0.0.1:{closed_port()}/0"

    line = one_line(
        hub_cli("worker", "--burst", HUB_DATABASE_URL=database_url, HUB_REDIS_URL=redis_url)
    )

    assert f"cannot reach Redis at {redis_url}" in line
    assert "HUB_REDIS_URL" in line


def test_a_worker_without_redis_configured_says_so(hub_cli, database_url):
    line = one_line(hub_cli("worker", HUB_DATABASE_URL=database_url))

    assert "HUB_REDIS_URL is not set" in line


def test_an_unknown_currency_for_a_new_merchant_is_refused(hub_cli, database_url):
    line = one_line(
        hub_cli("merchants", "create", "Shop", "--currency", "VNX", HUB_DATABASE_URL=database_url)
    )

    assert "unknown currency code 'VNX'" in line
    assert "ISO 4217" in line


def test_an_unknown_default_currency_setting_is_refused(hub_cli, database_url):
    line = one_line(
        hub_cli("merchants", "list", HUB_DATABASE_URL=database_url, HUB_DEFAULT_CURRENCY="DONG")
    )

    assert line.startswith("Error: HUB_DEFAULT_CURRENCY: unknown currency code 'DONG'")


def test_a_malformed_boolean_setting_names_the_setting(hub_cli):
    line = one_line(hub_cli("merchants", "list", HUB_LOAD_ENTRYPOINTS="maybe"))

    assert "HUB_LOAD_ENTRYPOINTS='maybe' is not a boolean" in line


# -- CSV encodings ---------------------------------------------------------------------------

NAMES = ("Nguyễn Thị Lan", "Trần Văn Đức", "Lê Ánh Dương")


def windows_1258(text: str) -> bytes:
    """``text`` as Vietnamese Windows writes it: a letter Windows-1258 has (â, ơ, Đ...),
    then the tone as a combining mark."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        if marks:
            try:
                out += unicodedata.normalize("NFC", base + marks[0]).encode("cp1258")
                marks = marks[1:]
            except UnicodeEncodeError:
                out += base.encode("cp1258")
        for mark in marks:
            out += mark.encode("cp1258")
    return bytes(out)


def members_csv(path: Path, encoding: str, names=NAMES) -> Path:
    rows = ["phone,name"] + [f"09123456{n:02d},{name}" for n, name in enumerate(names)]
    text = "\r\n".join(rows)
    path.write_bytes(windows_1258(text) if encoding == "cp1258" else text.encode(encoding))
    return path


def test_a_vietnamese_windows_csv_is_named_as_such_with_the_flag_to_use(
    hub_cli, database_url, merchant, tmp_path
):
    file = members_csv(tmp_path / "members.csv", "cp1258")

    line = one_line(
        hub_cli(
            "import", "members", str(file), "--merchant", str(merchant.id),
            HUB_DATABASE_URL=database_url,
        )
    )  # fmt: skip

    assert "members.csv is not utf-8" in line
    assert "on line 2" in line
    assert "Windows-1258" in line
    assert "--encoding cp1258" in line


def test_a_western_windows_csv_is_named_as_such(hub_cli, database_url, merchant, tmp_path):
    file = members_csv(tmp_path / "members.csv", "cp1252", names=("José Müller",))

    line = one_line(
        hub_cli(
            "import", "members", str(file), "--merchant", str(merchant.id),
            HUB_DATABASE_URL=database_url,
        )
    )  # fmt: skip

    assert "Windows-1252" in line
    assert "--encoding cp1252" in line


def test_an_unknown_encoding_name_is_refused(hub_cli, database_url, merchant, tmp_path):
    file = members_csv(tmp_path / "members.csv", "utf-8")

    line = one_line(
        hub_cli(
            "import", "members", str(file), "--merchant", str(merchant.id),
            "--encoding", "klingon", HUB_DATABASE_URL=database_url,
        )
    )  # fmt: skip

    assert "unknown encoding 'klingon'" in line


@pytest.mark.parametrize(
    ("encoding", "flag"), [("cp1258", "cp1258"), ("utf-8-sig", None), ("utf-8", None)]
)
def test_windows_1258_with_the_flag_and_utf8_with_or_without_bom_import_the_same_names(
    hub_cli, hub, database_url, merchant, tmp_path, encoding, flag
):
    from sqlalchemy import select

    from hub.models import Member

    file = members_csv(tmp_path / "members.csv", encoding)
    args = ["import", "members", str(file), "--merchant", str(merchant.id)]

    result = hub_cli(*args, *(["--encoding", flag] if flag else []), HUB_DATABASE_URL=database_url)

    assert result.exit_code == 0, result.output
    assert "3 created" in result.output
    with hub.db.session() as session:
        names = set(session.scalars(select(Member.name).where(Member.merchant_id == merchant.id)))
    assert names == set(NAMES)


def test_the_installed_hub_script_prints_one_line_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(HUB_DATABASE_URL="mysql://shop@db/hub", HUB_INSTANCE_PATH=str(tmp_path))
    script = Path(sys.executable).parent / "hub"

    done = subprocess.run(
        [str(script), "merchants", "list"], env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("Error: HUB_DATABASE_URL uses mysql://")
