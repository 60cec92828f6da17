"""The plugin manager: discovery through entry points, validation, disabling, listing."""

import base64
import hashlib
import json
import subprocess
import sys
import textwrap
import zipfile

import pytest

from hub import Connector
from hub import UnknownConnector
from hub import hookimpl
from hub.errors import StartupError
from hub.pluginmanager import describe_plugins
from hub.testing import make_app

PLUGIN_SOURCE = textwrap.dedent(
    '''
    """A plugin shipped as its own distribution."""
    from flask import Blueprint
    from hub import Connector, hookimpl

    bp = Blueprint("hub_hello", __name__)


    @bp.get("/hello-plugin")
    def hello():
        return {"hello": "from a separate distribution"}


    @hookimpl
    def register_blueprints(hub):
        return [bp]


    class HelloStore(Connector):
        name = "hello-store"
        title = "Hello Store"


    @hookimpl
    def register_connectors(hub):
        return [HelloStore()]
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


def test_an_installed_plugin_given_as_a_test_plugin_too_is_registered_once(
    installed_plugin, database_url
):
    # Given a plugin installed with its entry point, as `pip install -e .` leaves it,
    # when its tests also hand it to the app (the hub_plugins fixture)
    import hub_hello

    app = make_app(database_url, plugins=[hub_hello])
    hub = app.extensions["hub"]
    # Then the app starts, with the plugin once, under its entry point's name
    assert hub.pm.get_plugin("hello") is hub_hello
    assert [name for name, plugin in hub.pm.list_name_plugin() if plugin is hub_hello] == ["hello"]
    assert app.test_client().get("/hello-plugin").status_code == 200


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
    from hub import Connector

    class AnotherApi(Connector):
        name = "api"
        title = "Another API"

    class Duplicate:
        @hookimpl
        def register_connectors(self):
            return [AnotherApi()]

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


class _Recording(Connector):
    """A connector that answers its own name as the topic of every delivery."""

    def topic(self, hub, connection, headers, body):
        return f"{self.name}/topic"


class _Alpha(_Recording):
    name, title = "alpha", "Alpha"


class _Beta(_Recording):
    name, title = "beta", "Beta"


class _TwoConnectors:
    @hookimpl
    def register_connectors(self, hub):
        return [_Alpha(), _Beta()]


def test_the_hub_dispatches_to_the_connector_object_a_name_names(database_url):
    hub = make_app(database_url, plugins=[_TwoConnectors()]).extensions["hub"]
    alpha, beta = hub.connector("alpha"), hub.connector("beta")
    assert (type(alpha), type(beta)) == (_Alpha, _Beta)
    assert beta.topic(hub, None, {}, b"") == "beta/topic"


def test_an_unknown_connector_name_is_a_clear_404_naming_the_installed_ones(database_url):
    app = make_app(database_url, plugins=[_TwoConnectors()])
    hub = app.extensions["hub"]
    with pytest.raises(UnknownConnector) as caught:
        hub.connector("sapo")
    assert caught.value.code == "unknown_connector"
    assert "'sapo'" in caught.value.message and "alpha, api, beta" in caught.value.message
    answer = app.test_client().post("/webhooks/sapo", data=b"{}")
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "unknown_connector"


def test_a_plugin_registering_something_else_than_a_connector_stops_the_boot(database_url):
    class Described:
        @hookimpl
        def register_connectors(self):
            return [{"name": "sapo", "title": "Sapo"}]

    with pytest.raises(StartupError, match=r"hub\.Connector"):
        make_app(database_url, plugins=[Described()])
