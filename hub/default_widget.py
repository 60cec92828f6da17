"""Built-in widget behaviour: drop a member's cached panel whenever their data changes."""

from __future__ import annotations

from hub.hookspecs import hookimpl

# Every event whose data names a member can change what that member's panel shows.
_PREFIXES = ("points.", "tier.", "voucher.", "member.", "order.")


@hookimpl(trylast=True)
def track_event(hub, event):
    """Invalidate the widget cache of the members an event touches."""
    if not event.type.startswith(_PREFIXES) or not hasattr(hub, "widget_cache"):
        return
    for key in ("member_id", "merged_member_id"):
        member_id = event.data.get(key)
        if isinstance(member_id, int):
            hub.widget_cache.drop(event.merchant_id, member_id)
