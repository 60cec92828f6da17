"""docs/first-gateway.md works as written: its files, written out, pass their own tests."""

from __future__ import annotations

import ast
import pathlib

import pytest
from plugin_packages import file_blocks
from plugin_packages import run_its_tests
from plugin_packages import write_file_blocks

PAGE = pathlib.Path(__file__).parent.parent / "docs" / "first-gateway.md"


@pytest.mark.db_agnostic
def test_the_page_names_a_whole_package_of_valid_python():
    files = file_blocks(PAGE.read_text())
    assert set(files) >= {
        "pyproject.toml",
        "hub_pigeon/__init__.py",
        "hub_pigeon/plugin.py",
        "tests/simulator.py",
        "tests/test_pigeon.py",
    }
    for path, text in files.items():
        if path.endswith(".py"):
            ast.parse(text, filename=path)


def test_the_walk_through_package_passes_its_tests(tmp_path):
    write_file_blocks(PAGE.read_text(), tmp_path)
    run = run_its_tests(tmp_path)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "4 passed" in run.stdout
