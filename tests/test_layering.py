"""The layering of ARCHITECTURE.md: plugin packages use only hub's public API."""

import ast
import pathlib

ROOT = pathlib.Path(__file__).parent.parent
PUBLIC = {"hub", "hub.testing"}
# Alembic scripts name column types by their module path.
PUBLIC_IN_MIGRATIONS = PUBLIC | {"hub.db"}
PACKAGES = ("webhooks", "connectors", "plugins")


def imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def test_plugin_packages_import_only_the_public_api_of_hub():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            allowed = PUBLIC_IN_MIGRATIONS if "migrations" in path.parts else PUBLIC
            for line, module in imported_modules(path):
                top = module.split(".")[0]
                if top == "hub" and module not in allowed:
                    offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
                if top in PACKAGES and top != path.relative_to(ROOT).parts[0]:
                    offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offenders == []


def test_the_core_imports_none_of_the_packages_built_on_it():
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in (ROOT / "hub").rglob("*.py")
        for line, module in imported_modules(path)
        if module.split(".")[0] in PACKAGES
    ]
    assert offenders == []


def test_the_layering_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from hub.ledger import credit\nimport plugins.birthday\n")
    assert [m for _, m in imported_modules(bad)] == ["hub.ledger", "plugins.birthday"]
