"""The rule: no function of the core, the webhooks, a connector or a plugin is over 60 lines.

A function's lines run from its ``def`` (or its first decorator) to its last
line, docstring included. Migrations are exempt: each is one ``upgrade`` and
one ``downgrade`` that say the whole change in order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "webhooks", "connectors", "plugins")
LIMIT = 60

pytestmark = pytest.mark.db_agnostic


def long_functions(source: str, limit: int = LIMIT) -> list[tuple[str, int, int]]:
    """Return (name, first line, length) of each function in ``source`` over ``limit`` lines."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = node.end_lineno - first + 1
            if length > limit:
                found.append((node.name, first, length))
    return found


def test_the_check_finds_a_long_function_nested_or_not():
    body = "\n".join(f"        x{n} = {n}" for n in range(LIMIT))
    source = f"def short():\n    return 1\n\n\nclass C:\n    def long(self):\n{body}\n"
    outer = f"def outer():\n    def inner():\n{body}\n\n    return inner\n"

    assert long_functions(source) == [("long", 6, LIMIT + 1)]
    assert long_functions(outer) == [("outer", 1, LIMIT + 4), ("inner", 2, LIMIT + 1)]
    assert long_functions(source, limit=LIMIT + 1) == []


def test_no_function_is_over_sixty_lines_outside_migrations():
    over = [
        f"{path.relative_to(ROOT)}:{line} {name} ({length} lines)"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
        for name, line, length in long_functions(path.read_text(encoding="utf-8"))
    ]
    assert over == [], "split these functions:\n" + "\n".join(over)
