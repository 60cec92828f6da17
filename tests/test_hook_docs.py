"""Every hook has a documented section and a test of its own."""

import pathlib
import re

import pytest

from hub import hookspecs

# The PostgreSQL lane of scripts/test skips these: documents and hook specs, no database.
pytestmark = pytest.mark.db_agnostic

ROOT = pathlib.Path(__file__).parent.parent
HOOKS = sorted(
    name
    for name in dir(hookspecs)
    if not name.startswith("_") and hasattr(getattr(hookspecs, name), "hub_spec")
)


def test_there_are_hooks_to_check():
    assert "member_for_customer" in HOOKS and "handle_event" in HOOKS


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented_with_its_signature(name):
    import inspect

    args = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    docs = (ROOT / "docs" / "plugin-hooks.md").read_text()
    assert f"### {name}({args})" in docs


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_test(name):
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    assert re.search(rf"def test_hook_{name}(_\w*)?\(", sources), f"no test_hook_{name}_... test"
