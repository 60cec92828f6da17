"""``hub plugin new NAME --kind KIND``: write a ready plugin package to start from.

The package has a ``pyproject.toml`` with the ``hub.plugins`` entry point, the
plugin module with the hooks its kind needs, a simulator of the outside
service for gateways and stores, and tests that pass as written (the hub's
suite generates every kind and runs its tests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

import click

TEMPLATES = Path(__file__).parent / "plugin_templates"

#: Each kind's files: (template, path in the package; ``{package}`` is the import name).
KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "gateway": (
        ("gateway/plugin.py.tmpl", "{package}/plugin.py"),
        ("gateway/simulator.py.tmpl", "tests/simulator.py"),
        ("gateway/test_plugin.py.tmpl", "tests/test_plugin.py"),
    ),
    "store": (
        ("store/plugin.py.tmpl", "{package}/plugin.py"),
        ("store/simulator.py.tmpl", "tests/simulator.py"),
        ("store/test_plugin.py.tmpl", "tests/test_plugin.py"),
    ),
    "earning-rule": (
        ("earning-rule/plugin.py.tmpl", "{package}/plugin.py"),
        ("earning-rule/test_plugin.py.tmpl", "tests/test_plugin.py"),
    ),
    "message-kind": (
        ("message-kind/plugin.py.tmpl", "{package}/plugin.py"),
        ("message-kind/test_plugin.py.tmpl", "tests/test_plugin.py"),
    ),
}
COMMON = (
    ("common/pyproject.toml.tmpl", "pyproject.toml"),
    ("common/README.md.tmpl", "README.md"),
    ("common/__init__.py.tmpl", "{package}/__init__.py"),
)

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class PluginNames:
    """The names one plugin goes by: entry point, import package, distribution, class."""

    name: str
    package: str
    dist: str
    cls: str
    title: str


def plugin_names(raw: str, title: str | None = None) -> PluginNames:
    """Derive every name from the one given (``pigeon-sms`` -> ``pigeon_sms``,
    ``hub_pigeon_sms``, ``hub-pigeon-sms``, ``PigeonSms``)."""
    name = raw.strip().lower().replace("-", "_")
    if not _NAME.fullmatch(name):
        raise click.BadParameter(
            f"{raw!r} is not a plugin name: use a letter, then letters, digits, '-' or '_' "
            "(at most 40), e.g. pigeon-sms",
            param_hint="NAME",
        )
    words = [word for word in name.split("_") if word]
    return PluginNames(
        name=name,
        package=f"hub_{name}",
        dist="hub-" + name.replace("_", "-"),
        cls="".join(word.capitalize() for word in words),
        title=title or " ".join(word.capitalize() for word in words),
    )


def write_plugin(names: PluginNames, kind: str, target: Path) -> list[Path]:
    """Write the package of ``kind`` into ``target`` (which must not exist or be empty)."""
    if target.exists() and any(target.iterdir()):
        raise click.ClickException(f"{target} is not empty; choose another --directory")
    values = {**vars(names), "kind": kind}
    written = []
    for template, path in (*COMMON, *KINDS[kind]):
        text = Template((TEMPLATES / template).read_text()).substitute(values)
        destination = target / path.format(package=names.package)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text)
        written.append(destination)
    return written


@click.group("plugin")
def plugin_group() -> None:
    """Start a plugin package of your own."""


@plugin_group.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(sorted(KINDS)), required=True, help="What it adds.")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write it (default: ./hub-NAME).",
)
@click.option("--title", help="What merchants read (default: from NAME).")
def new_plugin(name: str, kind: str, directory: Path | None, title: str | None) -> None:
    """Write a ready plugin package: pyproject, plugin module, simulator, passing tests."""
    names = plugin_names(name, title)
    target = directory or Path(names.dist)
    written = write_plugin(names, kind, target)
    click.echo(f"wrote {len(written)} files to {target}/ ({kind} plugin {names.name!r})")
    click.echo(f'next: cd {target} && pip install -e ".[dev]" && pytest')
