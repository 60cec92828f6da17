"""Segments: saved sets of conditions over members, compiled to SQL on both databases.

``segment_members`` is the select campaigns stream in batches;
``count_members`` and ``sample_members`` answer the live count and sample.
"""

from hub.segments.conditions import SegmentCondition
from hub.segments.conditions import SegmentContext
from hub.segments.conditions import condition_kinds
from hub.segments.members import check_conditions
from hub.segments.members import count_members
from hub.segments.members import sample_members
from hub.segments.members import segment_members
from hub.segments.saved import create_segment
from hub.segments.saved import delete_segment
from hub.segments.saved import get_segment
from hub.segments.saved import list_segments
from hub.segments.saved import update_segment

__all__ = [
    "SegmentCondition",
    "SegmentContext",
    "check_conditions",
    "condition_kinds",
    "count_members",
    "create_segment",
    "delete_segment",
    "get_segment",
    "list_segments",
    "sample_members",
    "segment_members",
    "update_segment",
]
