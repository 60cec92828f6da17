"""Back up a live hub, restore it into a fresh database, and check the ledger there.

PostgreSQL: ``pg_dump -Fc`` and ``pg_restore``, the server's own major
version of them. SQLite: the backup API (``sqlite3 .backup``) while the hub
has the file open. ``hub db check`` then confirms every balance equals the
sum of its entries, and names the member when one does not.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hub.cli import cli
from hub.testing import create_postgres_database
from hub.testing import drop_postgres_database


def hub_command(database_url: str, tmp_path: Path, *args: str):
    settings = {name: None for name in os.environ if name.startswith("HUB_")}
    settings.update(
        HUB_DATABASE_URL=database_url,
        HUB_INSTANCE_PATH=str(tmp_path / "instance"),
        HUB_SECRET_KEY="s" * 32,
    )
    return CliRunner().invoke(cli, list(args), env=settings, prog_name="hub")


@pytest.fixture
def live_hub(api):
    """Three members with points, written through the API as a shop would."""
    ids = []
    for n, points in enumerate((120, 45, 300)):
        member = api.post(
            "/api/v1/members", json={"phone": f"09123450{n:02d}", "name": f"Khách {n}"}
        ).json
        response = api.post(
            f"/api/v1/members/{member['id']}/adjustments",
            json={"points": points, "reason": "opening"},
        )
        assert response.status_code in (200, 201), response.json
        ids.append(member["id"])
    api.post(f"/api/v1/members/{ids[2]}/adjustments", json={"points": -20, "reason": "typo"})
    return ids


def balances(database_url: str) -> dict[int, int]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, points_balance FROM members")).all()
    engine.dispose()
    return dict(rows)


def break_one_balance(database_url: str, member_id: int, by: int) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE members SET points_balance = points_balance + :by WHERE id = :id"),
            {"by": by, "id": member_id},
        )
    engine.dispose()


def postgres_tool(database_url: str, name: str) -> str:
    """``pg_dump`` or ``pg_restore`` of the server's major version (Debian keeps each apart)."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        major = int(connection.execute(text("SHOW server_version_num")).scalar()) // 10000
    engine.dispose()
    matching = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    found = str(matching) if matching.exists() else shutil.which(name)
    assert found, f"{name} is not installed: apt-get install postgresql-client-{major}"
    return found


def libpq_url(database_url: str) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@pytest.fixture
def restored_url(hub, database_url, live_hub, tmp_path):
    """The live hub dumped and restored into a database of its own."""
    if hub.db.is_sqlite:
        copy = tmp_path / "restored.sqlite3"
        source = sqlite3.connect(make_url(database_url).database)
        target = sqlite3.connect(copy)
        source.backup(target)  # what sqlite3's .backup does, with the hub still running
        source.close()
        target.close()
        yield f"sqlite:///{copy}"
        return
    dump = tmp_path / "hub.dump"
    subprocess.run(
        [postgres_tool(database_url, "pg_dump"), "-Fc", "-f", str(dump), libpq_url(database_url)],
        check=True,
    )
    admin = make_url(database_url).set(database="postgres").render_as_string(False)
    name = f"restored_{uuid.uuid4().hex[:8]}"
    restored = create_postgres_database(admin, name)
    try:
        subprocess.run(
            [
                postgres_tool(database_url, "pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "-d",
                libpq_url(restored),
                str(dump),
            ],
            check=True,
        )
        yield restored
    finally:
        drop_postgres_database(admin, name)


def test_a_restored_backup_has_every_balance_and_passes_db_check(
    database_url, live_hub, restored_url, tmp_path
):
    result = hub_command(restored_url, tmp_path, "db", "check")

    assert result.exit_code == 0, result.output
    assert result.output == "ledger consistent: 3 members checked\n"
    assert balances(restored_url) == balances(database_url)
    assert sorted(balances(restored_url).values()) == [45, 120, 280]


def test_db_check_names_a_member_whose_balance_was_changed_by_hand(
    live_hub, restored_url, tmp_path
):
    break_one_balance(restored_url, live_hub[1], by=7)

    result = hub_command(restored_url, tmp_path, "db", "check")

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"member {live_hub[1]} (merchant ")
    assert "balance 52 but entries sum to 45 (difference +7)" in lines[0]
    assert "lots hold 45 points but the balance is 52" in lines[0]
    assert lines[-1] == "1 of 3 members do not match their ledger"


def test_db_check_on_the_live_database_finds_nothing_wrong(live_hub, database_url, tmp_path):
    result = hub_command(database_url, tmp_path, "db", "check")

    assert result.exit_code == 0, result.output
    assert "3 members checked" in result.output
