"""``hub plugin new``: every kind writes a package whose own tests pass as written."""

from __future__ import annotations

import tomllib

import pytest
from click.testing import CliRunner
from plugin_packages import install_metadata
from plugin_packages import run_its_tests

from hub.cli import cli
from hub.cli.plugin_new import KINDS


def generate(tmp_path, name, kind):
    target = tmp_path / name
    result = CliRunner().invoke(
        cli, ["plugin", "new", name, "--kind", kind, "--directory", str(target)]
    )
    assert result.exit_code == 0, result.output
    return target


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_generates_a_package_whose_tests_pass(tmp_path, kind):
    package = generate(tmp_path, f"pigeon-{kind}", kind)
    run = run_its_tests(package)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout


def test_installed_as_well_its_tests_still_pass(tmp_path):
    # pip install -e . then pytest: the entry point loads the plugin in every app, and the
    # tests' hub_plugins gives the same module; it is registered once.
    package = generate(tmp_path, "pigeon", "gateway")
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    install_metadata(tmp_path / "site", project["name"], project["entry-points"]["hub.plugins"])
    run = run_its_tests(package, site=tmp_path / "site")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "4 passed" in run.stdout


@pytest.mark.db_agnostic
def test_the_package_declares_its_entry_point_and_plugin_module(tmp_path):
    package = generate(tmp_path, "pigeon-sms", "gateway")
    project = tomllib.loads((package / "pyproject.toml").read_text())
    assert project["project"]["name"] == "hub-pigeon-sms"
    assert project["project"]["entry-points"]["hub.plugins"] == {
        "pigeon_sms": "hub_pigeon_sms.plugin"
    }
    plugin = (package / "hub_pigeon_sms" / "plugin.py").read_text()
    assert 'name = "pigeon_sms"' in plugin and "class PigeonSms(GatewayConnector)" in plugin
    assert (package / "tests" / "simulator.py").exists()


@pytest.mark.db_agnostic
@pytest.mark.parametrize("name", ["9lives", "pigeon sms", "", "x" * 41, "hub/../../etc"])
def test_a_name_that_is_not_a_plugin_name_is_refused(tmp_path, name):
    result = CliRunner().invoke(
        cli, ["plugin", "new", name, "--kind", "gateway", "--directory", str(tmp_path / "p")]
    )
    assert result.exit_code == 2
    assert "is not a plugin name" in result.output
    assert not (tmp_path / "p").exists()


@pytest.mark.db_agnostic
def test_a_folder_that_is_not_empty_is_left_alone(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(
        cli, ["plugin", "new", "pigeon", "--kind", "store", "--directory", str(tmp_path / "p")]
    )
    assert result.exit_code == 1 and "is not empty" in result.output
    assert [p.name for p in (tmp_path / "p").iterdir()] == ["keep.txt"]
