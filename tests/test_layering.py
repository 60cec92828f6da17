"""The layering of the project: plugin packages use only hub's public API, and the core is layered.

The import contracts of ``pyproject.toml`` hold, and every core module has a
layer. The layers of ``hub`` and why each module sits where it does are in
``docs/architecture.md``. A failure here names the import that goes the wrong
way: turn it around (an event, a hook, a callback registered when the app is
created, or the function moved down) rather than listing it as ignored.
"""

import ast
import pathlib
import pkgutil
import tomllib

import pytest
from importlinter import cli

import hub

# The PostgreSQL lane of scripts/test skips these: import contracts, no database.
pytestmark = pytest.mark.db_agnostic

ROOT = pathlib.Path(__file__).parent.parent
PUBLIC = {"hub", "hub.testing"}
# Alembic scripts name column types by their module path.
PUBLIC_IN_MIGRATIONS = PUBLIC | {"hub.db"}
PACKAGES = ("webhooks", "connectors", "plugins")
PYPROJECT = ROOT / "pyproject.toml"
GUIDE = "docs/architecture.md"


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
    bad.write_text("from hub.points.ledger import credit\nimport plugins.birthday\n")
    assert [m for _, m in imported_modules(bad)] == ["hub.points.ledger", "plugins.birthday"]


def _contracts() -> list[dict]:
    with PYPROJECT.open("rb") as file:
        return tomllib.load(file)["tool"]["importlinter"]["contracts"]


def _layers_contract() -> dict:
    (contract,) = [c for c in _contracts() if c["type"] == "layers"]
    return contract


def _layered_modules(contract: dict) -> list[str]:
    """Every module the contract names, as dotted names inside its container."""
    return [name.strip() for layer in contract["layers"] for name in layer.split(":")]


def _core_modules() -> set[str]:
    """The modules and packages directly in ``hub``, and those of ``hub.messaging``.

    ``hub.messaging`` is placed module by module: its tables sit with the
    models, the rest is a service.
    """
    names = {info.name for info in pkgutil.iter_modules(hub.__path__)}
    names.discard("messaging")
    messaging = ROOT / "hub" / "messaging"
    names |= {f"messaging.{info.name}" for info in pkgutil.iter_modules([str(messaging)])}
    return names


def test_the_import_contracts_hold(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    exit_code = cli.lint_imports(config_filename=str(PYPROJECT), no_cache=True)
    report = capsys.readouterr().out
    assert exit_code == 0, f"an import breaks a contract; see {GUIDE}\n{report}"


def test_every_core_module_has_exactly_one_layer() -> None:
    named = _layered_modules(_layers_contract())
    twice = sorted({name for name in named if named.count(name) > 1})
    missing = sorted(_core_modules() - set(named))
    assert not twice, f"modules named in more than one layer: {twice}; see {GUIDE}"
    assert not missing, (
        f"modules in no layer of the contract in pyproject.toml: {missing}; "
        f"give each the layer of what it does (see {GUIDE})"
    )


def test_the_layers_contract_names_no_module_that_is_gone() -> None:
    gone = sorted(set(_layered_modules(_layers_contract())) - _core_modules())
    assert not gone, f"the layers contract names modules that do not exist: {gone}"


def test_the_architecture_guide_names_every_layered_module() -> None:
    guide = (ROOT / GUIDE).read_text(encoding="utf-8")
    unnamed = [name for name in _layered_modules(_layers_contract()) if f"`{name}`" not in guide]
    # messaging's services are named together as ``messaging.*``
    unnamed = [name for name in unnamed if not name.startswith("messaging.")]
    assert not unnamed, f"{GUIDE} does not say where these modules sit: {unnamed}"
