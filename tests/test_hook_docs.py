"""Every hook, and every method of the connector contract, has a documented section and a
test of its own."""

import inspect
import pathlib
import re

import pytest

from hub import Connector
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
    args = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    docs = (ROOT / "docs" / "plugin-hooks.md").read_text()
    assert f"### {name}({args})" in docs


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_test(name):
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    assert re.search(rf"def test_hook_{name}(_\w*)?\(", sources), f"no test_hook_{name}_... test"


CONNECTOR_METHODS = sorted(
    name for name, value in vars(Connector).items() if not name.startswith("_") and callable(value)
)


def test_there_are_connector_methods_to_check():
    assert "verify_webhook" in CONNECTOR_METHODS and "send_message" in CONNECTOR_METHODS


@pytest.mark.parametrize("name", CONNECTOR_METHODS)
def test_connector_method_is_documented_with_its_signature(name):
    args = ", ".join(list(inspect.signature(getattr(Connector, name)).parameters)[1:])
    docs = (ROOT / "docs" / "connector-contract.md").read_text()
    assert f"### {name}({args})" in docs


@pytest.mark.parametrize("name", CONNECTOR_METHODS)
def test_connector_method_has_a_test(name):
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py"))
    found = re.search(rf"def test_connector_{name}(_\w*)?\(", sources)
    assert found, f"no test_connector_{name}_... test"


#: The dataclasses hooks and connector methods receive or return: each has a field table.
HOOK_TYPES = [
    "ApiInterface",
    "Event",
    "Customer",
    "Address",
    "Order",
    "OrderLine",
    "Refund",
    "VoucherUse",
    "ConnectionUninstalled",
    "CustomerDataRequest",
    "CustomerRedaction",
    "ShopRedaction",
    "Award",
    "ProgramRule",
    "TierStats",
    "MessageKind",
    "OutgoingMessage",
    "SendResult",
    "GatewayCallback",
    "DeliveryReceipt",
    "InboundMessage",
    "Gateway",
    "ConsolePage",
    "PeriodicJob",
    "GaugeReading",
    "SegmentCondition",
    "SegmentContext",
]


def _section(docs: str, name: str) -> str:
    start = docs.index(f"\n### {name}\n")
    following = docs.find("\n##", start + 1)
    return docs[start : following if following != -1 else len(docs)]


@pytest.mark.parametrize("name", HOOK_TYPES)
def test_every_field_of_a_type_hooks_exchange_is_in_its_table(name):
    import dataclasses

    import hub

    cls = getattr(hub, name)
    docs = (ROOT / "docs" / "plugin-types.md").read_text()
    assert f"\n### {name}\n" in docs, f"docs/plugin-types.md has no section for {name}"
    section = _section(docs, name)
    missing = [
        field.name
        for field in dataclasses.fields(cls)
        if not field.name.startswith("_") and f"| `{field.name}` |" not in section
    ]
    assert not missing, f"{name}: fields without a row in docs/plugin-types.md: {missing}"
