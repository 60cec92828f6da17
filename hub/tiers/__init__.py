"""Tiers: which rung of the merchant's ladder each member stands on, and why.

A member is upgraded at once when an event (an order's points, a refund's
reversal) shows they qualify for a higher tier; they only move down at a
review, when the window their tier was earned in has closed, as the
merchant's downgrade policy says. Which tier the numbers earn is the
``tier_for_member`` hook's answer; the built-in one (``hub.defaults.tiers``)
is the highest tier whose threshold the member's progress reaches.

Every function takes the caller's session and leaves the commit to it.

* ``windows``: lifetime, calendar year, rolling 12 months;
* ``ladder``: the merchant's tiers and tier policy;
* ``progress``: points earned and money spent per window (``TierStats``);
* ``membership``: a member's tier, upgrades, overrides, near misses, status;
* ``review``: the daily review and the re-evaluation job.
"""

from __future__ import annotations

from hub.tiers.ladder import BASES
from hub.tiers.ladder import DOWNGRADE_POLICIES
from hub.tiers.ladder import create_tier
from hub.tiers.ladder import get_settings
from hub.tiers.ladder import get_tier
from hub.tiers.ladder import list_tiers
from hub.tiers.ladder import move_tier
from hub.tiers.ladder import update_settings
from hub.tiers.ladder import update_tier
from hub.tiers.membership import current_period
from hub.tiers.membership import current_tier
from hub.tiers.membership import delete_tier
from hub.tiers.membership import end_override
from hub.tiers.membership import members_per_tier
from hub.tiers.membership import override_tier
from hub.tiers.membership import reevaluate_tier
from hub.tiers.membership import tier_history
from hub.tiers.membership import tier_status
from hub.tiers.progress import TierStats
from hub.tiers.progress import member_stats
from hub.tiers.review import reevaluate_merchant
from hub.tiers.review import review_due
from hub.tiers.review import review_member
from hub.tiers.review import settle_after_merge
from hub.tiers.windows import WINDOWS

__all__ = [
    "BASES",
    "DOWNGRADE_POLICIES",
    "WINDOWS",
    "TierStats",
    "create_tier",
    "current_period",
    "current_tier",
    "delete_tier",
    "end_override",
    "get_settings",
    "get_tier",
    "list_tiers",
    "member_stats",
    "members_per_tier",
    "move_tier",
    "override_tier",
    "reevaluate_merchant",
    "reevaluate_tier",
    "review_due",
    "review_member",
    "settle_after_merge",
    "tier_history",
    "tier_status",
    "update_settings",
    "update_tier",
]
