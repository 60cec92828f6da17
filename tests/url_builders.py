"""URL builders made once per test process instead of once per app.

Every test makes a fresh app, and each app adds its ~150 URL rules to a new
``werkzeug.routing.Map``. Binding a rule compiles two URL-building functions
for it: an AST put together and run through ``compile()`` — about two thirds of
the CPU time of making an app. The function werkzeug compiles depends only on
the rule's text and the parts parsed from it (its ``_trace``) and on whether
unknown arguments go in the query string; it takes the rule as ``self`` when
called, so one function serves every app's rule of the same text. Rules with
defaults are left alone (a default changes the code through its converter).

If werkzeug's private ``Rule._compile_builder`` changes shape, nothing is
patched and the tests run as before, only slower.
"""

from __future__ import annotations

import inspect
from typing import Any

from werkzeug.routing.rules import Rule

_original = Rule.__dict__.get("_compile_builder")
_builders: dict[tuple[Any, ...], Any] = {}


def _shared_builder(self: Rule, append_unknown: bool = True) -> Any:
    if self.defaults:
        return _original(self, append_unknown)
    key = (self.rule, tuple(self._trace), append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _original(self, append_unknown)
    return builder


def install() -> None:
    """Share compiled URL builders between the apps of this process."""
    if _original is None or Rule.__dict__["_compile_builder"] is _shared_builder:
        return
    if list(inspect.signature(_original).parameters) != ["self", "append_unknown"]:
        return
    Rule._compile_builder = _shared_builder  # type: ignore[method-assign]
