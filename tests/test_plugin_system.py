"""The plugin manager: discovery through entry points, validation, disabling, listing."""

import base64
import hashlib
import json
import subprocess
import sys
import textwrap
import zipfile

import pytest

from hub import hookimpl
from hub.errors import StartupError
from hub.errors import Unauthorized
from hub.pluginmanager import describe_plugins
from hub.testing import make_app

PLUGIN_SOURCE = textwrap.dedent(
    '''
    """A plugin shipped as its own distribution."""
    from flask import Blueprint
    from hub import ConnectorInfo, hookimpl

    bp = Blueprint("hub_hello", __name__)


    @bp.get("/hello-plugin")
    def hello():
        return {"hello": "from a separate distribution"}


    @hookimpl
    def register_blueprints(hub):
        return [bp]


    @hookimpl
    def register_connectors(hub):
        return [ConnectorInfo(name="hello-store", title="Hello Store")]
    '''
)


def build_wheel(directory, name="hub_hello", version="1.2.3"):
    """Build a real wheel of a one-module plugin with a hub.plugins entry point."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": PLUGIN_SOURCE,
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n"
        ),
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        f"{dist_info}/entry_points.txt": f"[hub.plugins]\nhello = {name}\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture
def installed_plugin(tmp_path):
    """Install the wheel with pip into a folder of its own and put it on sys.path."""
    wheel = build_wheel(tmp_path)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(wheel)],
        check=True,
    )  # fmt: skip
    sys.path.insert(0, str(target))
    yield target
    sys.path.remove(str(target))
    sys.modules.pop("hub_hello", None)


def test_a_plugin_from_a_separate_distribution_is_discovered(installed_plugin, database_url):
    app = make_app(database_url)
    hub = app.extensions["hub"]

    assert hub.pm.get_plugin("hello") is not None
    assert app.test_client().get("/hello-plugin").json == {"hello": "from a separate distribution"}
    assert "hello-store" in hub.connectors
    row = next(r for r in describe_plugins(hub.pm) if r["name"] == "hello")
    assert (row["distribution"], row["version"]) == ("hub-hello", "1.2.3")
    assert row["hooks"] == ["register_blueprints", "register_connectors"]


def test_a_disabled_plugin_is_not_loaded(installed_plugin, database_url):
    app = make_app(database_url, config={"HUB_DISABLE_PLUGINS": "hello"})
    hub = app.extensions["hub"]
    assert hub.pm.get_plugin("hello") is None
    assert "hello-store" not in hub.connectors


def test_a_core_default_can_be_disabled_and_replaced(database_url):
    class StrictIdentity:
        @hookimpl
        def member_for_customer(self):
            return None

    app = make_app(
        database_url,
        config={"HUB_DISABLE_PLUGINS": "hub.defaults.identity"},
        plugins=[StrictIdentity()],
    )
    hub = app.extensions["hub"]
    assert hub.pm.get_plugin("hub.defaults.identity") is None


def test_a_misspelt_hook_fails_at_boot_naming_the_plugin(database_url):
    class Typo:
        __name__ = "typo-plugin"

        @hookimpl
        def handle_evnet(self, event):
            pass

    with pytest.raises(StartupError) as caught:
        make_app(database_url, plugins=[Typo()])
    assert "handle_evnet" in str(caught.value)
    assert "typo-plugin" in str(caught.value)


def test_a_hook_with_an_argument_the_spec_lacks_fails_at_boot(database_url):
    class Wrong:
        @hookimpl
        def handle_event(self, event, colour):
            pass

    with pytest.raises(Exception) as caught:
        make_app(database_url, plugins=[Wrong()])
    assert "colour" in str(caught.value)


def test_two_plugins_registering_one_connector_name_stop_the_boot(database_url):
    from hub import ConnectorInfo

    class Duplicate:
        @hookimpl
        def register_connectors(self):
            return [ConnectorInfo(name="api", title="Another API")]

    with pytest.raises(StartupError, match="api"):
        make_app(database_url, plugins=[Duplicate()])


def test_each_app_has_its_own_plugin_manager(database_url):
    first = make_app(database_url).extensions["hub"]
    second = make_app(database_url).extensions["hub"]
    first.pm.register(type("Extra", (), {})(), name="only-in-first")
    assert first.pm is not second.pm
    assert second.pm.get_plugin("only-in-first") is None


def test_hub_plugins_command_lists_plugins_with_versions_and_hooks(runner):
    result = runner.invoke(args=["plugins", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert "member_for_customer" in rows["hub.defaults.identity"]["hooks"]
    assert rows["hub.defaults.identity"]["version"]


def _topic_plugin(name: str, answer, connector: str | None = None, **options):
    """A plugin whose ``webhook_topic`` records its calls and answers ``answer(connection)``."""
    calls: list[str] = []

    class Plugin:
        @hookimpl(**options)
        def webhook_topic(self, hub, connection, headers, body):
            calls.append(connection.connector)
            return answer(connection)

    plugin = Plugin()
    if connector is not None:
        plugin.HUB_CONNECTOR = connector
    plugin.calls = calls
    plugin.__name__ = name
    return plugin


def _call_both_ways(pm, connector: str):
    from types import SimpleNamespace

    from hub import call_for_connector

    kwargs = {
        "hub": None,
        "connection": SimpleNamespace(connector=connector),
        "headers": {},
        "body": b"",
    }
    return call_for_connector(pm, "webhook_topic", connector, **kwargs), pm.hook.webhook_topic(
        **kwargs
    )


def test_call_for_connector_skips_only_other_connectors_plugins_and_keeps_pluggys_order():
    import pluggy

    from hub import hookspecs

    pm = pluggy.PluginManager("hub")
    pm.add_hookspecs(hookspecs)
    alpha = _topic_plugin(
        "alpha", lambda c: "alpha/topic" if c.connector == "alpha" else None, "alpha"
    )
    beta = _topic_plugin("beta", lambda c: "beta/topic" if c.connector == "beta" else None, "beta")
    watcher = _topic_plugin("watcher", lambda c: None)  # declares nothing: sees every call
    gamma = _topic_plugin(
        "gamma", lambda c: "gamma/override" if c.connector == "gamma" else None, tryfirst=True
    )
    for plugin in (alpha, beta, watcher, gamma):
        pm.register(plugin, name=plugin.__name__)

    # Calls per plugin, both ways together. pluggy goes gamma (tryfirst), watcher, beta,
    # alpha until one answers; the dispatch skips the plugin of another connector.
    cases = {
        "alpha": ("alpha/topic", {"gamma": 2, "watcher": 2, "beta": 1, "alpha": 2}),
        "beta": ("beta/topic", {"gamma": 2, "watcher": 2, "beta": 2, "alpha": 0}),
        "gamma": ("gamma/override", {"gamma": 2, "watcher": 0, "beta": 0, "alpha": 0}),
        "delta": (None, {"gamma": 2, "watcher": 2, "beta": 1, "alpha": 1}),
    }
    plugins = {"alpha": alpha, "beta": beta, "watcher": watcher, "gamma": gamma}
    for connector, (expected, counts) in cases.items():
        for plugin in plugins.values():
            plugin.calls.clear()
        assert _call_both_ways(pm, connector) == (expected, expected)
        assert {name: len(plugin.calls) for name, plugin in plugins.items()} == counts

    # A plugin registered later is honoured at once: the order is worked out again.
    pm.register(_topic_plugin("late", lambda c: "late/first", tryfirst=True), name="late")
    assert _call_both_ways(pm, "alpha") == ("late/first", "late/first")
    pm.unregister(name="late")
    assert _call_both_ways(pm, "alpha") == ("alpha/topic", "alpha/topic")


def test_call_for_connector_goes_through_pluggy_with_a_wrapper_and_raises_as_pluggy_does():
    from types import SimpleNamespace

    import pluggy

    from hub import hookspecs

    pm = pluggy.PluginManager("hub")
    pm.add_hookspecs(hookspecs)
    wrapped = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def webhook_topic(self, hub, connection, headers, body):
            result = yield
            wrapped.append(result)
            return result.upper() if result else result

    def refuse(connection):
        raise Unauthorized("not from this shop", code="bad_shop")

    pm.register(_topic_plugin("alpha", lambda c: "alpha/topic", "alpha"), name="alpha")
    pm.register(Wrapper(), name="wrapper")
    assert _call_both_ways(pm, "alpha") == ("ALPHA/TOPIC", "ALPHA/TOPIC")
    assert wrapped == ["alpha/topic", "alpha/topic"]

    pm.unregister(name="wrapper")
    pm.register(_topic_plugin("refuser", refuse, tryfirst=True), name="refuser")
    with pytest.raises(Unauthorized, match="not from this shop"):
        _call_both_ways(pm, "alpha")
    with pytest.raises(Unauthorized, match="not from this shop"):
        pm.hook.webhook_topic(
            hub=None, connection=SimpleNamespace(connector="alpha"), headers={}, body=b""
        )
