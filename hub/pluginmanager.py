"""Build the plugin manager: the hub's own defaults, then entry-point plugins."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from importlib import metadata
from typing import Any

import pluggy

from hub import hookspecs
from hub.errors import StartupError
from hub.markers import PROJECT

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hub.plugins"

#: Built-in behaviour of the core, each an ordinary plugin with trylast hooks.
DEFAULT_PLUGINS = (
    "hub.defaults.identity",
    "hub.defaults.connectors",
    "hub.defaults.tiers",
    "hub.rewards.vouchers",
    "hub.defaults.earning",
    "hub.points.expiry",
    "hub.reports.jobs",
    "hub.referrals.settlement",
    "hub.messaging.plugin",
    "hub.segments.builtin",
    "hub.campaigns.plugin",
)


def make_plugin_manager(
    *,
    disabled: Iterable[str] = (),
    load_entrypoints: bool = True,
    extra_plugins: Iterable[Any] = (),
) -> pluggy.PluginManager:
    """Return a new plugin manager with every plugin registered and checked.

    Unknown hook names in a plugin fail here, at boot, with the plugin named.
    ``extra_plugins`` (a test's ``hub_plugins``) may name a plugin that an
    entry point also loads: it is registered once, under the entry point's name.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    blocked = {name.strip() for name in disabled if name.strip()}
    for name in blocked:
        pm.set_blocked(name)
    for module_name in DEFAULT_PLUGINS:
        if module_name not in blocked:
            pm.register(importlib.import_module(module_name), name=module_name)
    if load_entrypoints:
        _load_entrypoints(pm)
    for plugin in extra_plugins:
        if pm.is_registered(plugin):
            # Installed too (``pip install -e .``): its entry point registered it already,
            # under the entry point's name; a second registration would be refused.
            continue
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        if not pm.is_blocked(name):
            pm.register(plugin, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        hook = str(exc).split("'")[1] if "'" in str(exc) else str(exc)
        raise StartupError(
            f"plugin {name!r} implements unknown hook {hook!r}. Check the name against "
            f"docs/plugin-hooks.md, or disable the plugin with HUB_DISABLE_PLUGINS={name}."
        ) from exc
    return pm


def _load_entrypoints(pm: pluggy.PluginManager) -> None:
    # pluggy's load_setuptools_entrypoints would stop at the first plugin that
    # fails to import; name the plugin and the fix instead.
    for dist in metadata.distributions():
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP:
                continue
            if pm.get_plugin(ep.name) or pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                raise StartupError(
                    f"plugin {ep.name!r} from {dist.metadata['Name']} failed to load: "
                    f"{exc!r}. Fix or uninstall it, or set HUB_DISABLE_PLUGINS={ep.name}."
                ) from exc
            try:
                pm.register(plugin, name=ep.name)
            except (pluggy.PluginValidationError, ValueError) as exc:
                raise StartupError(
                    f"plugin {ep.name!r} from {dist.metadata['Name']} is invalid: {exc}"
                ) from exc
            # Recorded the way pluggy's own loader does, for list_plugin_distinfo().
            pm._plugin_distinfo.append((plugin, dist))


def describe_plugins(pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """Return name, distribution, version and implemented hooks of each plugin."""
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        if plugin is None:
            continue
        dist = dists.get(id(plugin))
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        rows.append(
            {
                "name": name,
                "distribution": dist.project_name if dist else "storefront-hub",
                "version": dist.version if dist else _own_version(),
                "hooks": hooks,
            }
        )
    return rows


def _own_version() -> str:
    try:
        return metadata.version("storefront-hub")
    except metadata.PackageNotFoundError:
        return "0+unknown"
