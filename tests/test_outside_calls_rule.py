"""The rule: every outside call goes through the hub's client (``hub.outside_http``).

No module of the hub, the webhooks or a connector or plugin may import an HTTP
library of its own; only ``hub/http.py`` (the client) may. Simulators and test
helpers stand in for the outside world and are exempt.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "webhooks", "connectors", "plugins")
#: Libraries that open connections of their own, past the address policy.
FORBIDDEN = ("requests", "urllib3", "httpx", "aiohttp", "urllib.request", "http.client", "pycurl")
#: The client itself, and the address policy's resolver.
ALLOWED_FILES = {"hub/http.py": {"urllib3"}, "hub/address_policy.py": set()}
EXEMPT_NAMES = {"simulator.py", "simulators.py", "testing.py"}


def forbidden_imports(source: str, allowed: set[str] = frozenset()) -> list[tuple[int, str]]:
    """Return (line, module) for each import of an HTTP library in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            for library in FORBIDDEN:
                if (name == library or name.startswith(f"{library}.")) and library not in allowed:
                    found.append((node.lineno, name))
    return found


def checked_files() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name in EXEMPT_NAMES or "migrations" in path.parts:
                continue
            files.append(path)
    return files


def test_no_module_calls_outside_without_the_hub_client():
    offenders = []
    for path in checked_files():
        relative = path.relative_to(ROOT).as_posix()
        allowed = ALLOWED_FILES.get(relative, set())
        for line, name in forbidden_imports(path.read_text(), allowed):
            offenders.append(f"{relative}:{line} imports {name}")
    assert offenders == [], "use hub.outside_http(hub) instead:\n" + "\n".join(offenders)


def test_the_rule_walks_every_connector():
    names = {p.relative_to(ROOT).as_posix() for p in checked_files()}
    for connector in ("shopify", "haravan", "kiotviet", "esms", "speedsms", "twilio", "zalo"):
        assert any(n.startswith(f"connectors/{connector}/") for n in names), connector
    assert "connectors/shopify/simulator.py" not in names
    assert "webhooks/sender.py" in names


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("import requests\n", "requests"),
        ("import requests.adapters as a\n", "requests.adapters"),
        ("from requests import Session\n", "requests"),
        ("import urllib3\n", "urllib3"),
        ("import httpx\n", "httpx"),
        ("import urllib.request\n", "urllib.request"),
        ("from urllib import request\n", "urllib.request"),
        ("from urllib.request import urlopen\n", "urllib.request"),
        ("import http.client\n", "http.client"),
        ("def f():\n    import requests\n    return requests.get('http://10.0.0.1')\n", "requests"),
    ],
)
def test_a_planted_outside_call_is_caught(source, module):
    assert module in [name for _line, name in forbidden_imports(source)]


def test_urllib_parse_and_the_hub_client_are_fine():
    source = "from urllib.parse import urlsplit\nfrom hub import outside_http\nimport json\n"
    assert forbidden_imports(source) == []
