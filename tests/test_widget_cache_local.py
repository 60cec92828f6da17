"""The widget's in-process cache (the embedded default, no Redis): bounded, and never stale."""

import pytest

from hub.widget import cache


@pytest.fixture
def local(hub, monkeypatch):
    assert hub.jobs.is_inline  # no Redis: the cache is the process's own
    monkeypatch.setattr(cache, "LOCAL_PANELS", 50, raising=False)
    return hub.widget_cache


def test_members_changed_by_the_thousand_leave_at_most_the_bound_behind(local):
    # Given a process that sees many members change (an import bumps every one it writes)
    for member_id in range(1, 1001):
        local.drop(1, member_id)
    # Then it keeps at most the bound's worth of entries, not one per member ever changed
    assert len(local._local.panels) <= cache.LOCAL_PANELS


def test_a_panel_read_before_its_member_changed_is_refused_across_the_drop(local):
    # Given a request that read member 7's generation, then its data
    generation = local.generation(1, 7)
    # When member 7 changes, and so many others after it that the entries are dropped
    local.drop(1, 7)
    for member_id in range(100, 100 + cache.LOCAL_PANELS):
        local.drop(1, member_id)
    # Then the panel the request built from the old data is not kept
    local.remember(1, 7, generation, b'{"points": 1}')
    assert local.glance(1, [], member_id=7).panel is None
    # And a panel built after the change, at the generation read then, is kept and served
    fresh = local.generation(1, 7)
    local.remember(1, 7, fresh, b'{"points": 2}')
    assert local.glance(1, [], member_id=7).panel == b'{"points": 2}'
