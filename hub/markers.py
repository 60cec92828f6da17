"""The two pluggy markers of the ``hub`` project: ``hookspec`` and ``hookimpl``.

They live apart from ``hub.hookspecs`` so that a module implementing a hook
(the ledger, vouchers, the default plugins, any plugin) imports only the
marker, never the specs, which name types from every layer of the core.
Plugins take ``hookimpl`` from ``hub``.
"""

from __future__ import annotations

import pluggy

PROJECT = "hub"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
