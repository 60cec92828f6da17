"""The core's segment condition kinds, as a built-in plugin (trylast)."""

from __future__ import annotations

from hub.markers import hookimpl
from hub.segments.activity import ACTIVITY_KINDS
from hub.segments.profile import PROFILE_KINDS


@hookimpl(trylast=True)
def register_segment_conditions(hub):
    """Tier, points, spending, orders, birthdays, place, source, tags, consent, vouchers..."""
    return [*PROFILE_KINDS, *ACTIVITY_KINDS]
