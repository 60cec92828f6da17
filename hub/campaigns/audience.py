"""Who a campaign's run writes to: its segment or list, with a control group held out.

The audience is fixed when a run starts: one recipient row per member, in
one transaction, so a run never half-exists. A member is held out when a
hash of the run's seed and the member's id falls in the holdout share: each
member's draw is independent of the others' and of the order they come in,
and the same run always draws the same group.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Conflict
from hub.models import Campaign
from hub.models import CampaignRecipient
from hub.models import Member
from hub.models import Segment
from hub.segments import segment_members

#: Members read and written per round trip while a run's audience is written.
ASSIGN_CHUNK = 5000
#: Draws are made in ten-thousandths: a holdout of 10 % holds out draws under 1,000.
BUCKETS = 10_000


def audience_members(session: Session, campaign: Campaign, now: datetime) -> Select:
    """A select of the ids of the active members the campaign is for, as of ``now``."""
    if campaign.audience == "segment":
        segment = session.get(Segment, campaign.segment_id) if campaign.segment_id else None
        if segment is None:
            raise Conflict(
                f"campaign {campaign.id}'s segment was deleted; choose another in a new campaign",
                code="campaign_segment_gone",
            )
        return segment_members(session, campaign.merchant_id, segment.conditions, now=now)
    return select(Member.id).where(
        Member.merchant_id == campaign.merchant_id,
        Member.status == "active",
        Member.id.in_(campaign.member_ids or [0]),
    )


def audience_count(session: Session, campaign: Campaign, now: datetime) -> int:
    query = audience_members(session, campaign, now)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def draw(seed: str, member_id: int) -> int:
    """The member's draw for a run, in ``0 .. BUCKETS - 1``."""
    digest = hashlib.blake2b(f"{seed}:{member_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def held_out(seed: str, member_id: int, percent: int) -> bool:
    """Whether the member is in the run's control group (``percent`` of 100)."""
    return draw(seed, member_id) < percent * BUCKETS // 100


def run_seed(campaign: Campaign) -> str:
    return f"campaign:{campaign.id}:{campaign.run}:{campaign.created_at.isoformat()}"


def assign_run(session: Session, campaign: Campaign, now: datetime) -> tuple[int, int]:
    """Write the recipients of the campaign's current run; return (targeted, held out).

    Members are read in id order, a chunk at a time, so no list of the whole
    audience is held in memory.
    """
    query = audience_members(session, campaign, now)
    seed = run_seed(campaign)
    targeted = control = 0
    last = 0
    while True:
        ids = list(
            session.scalars(query.where(Member.id > last).order_by(Member.id).limit(ASSIGN_CHUNK))
        )
        if not ids:
            break
        rows: list[dict[str, Any]] = []
        for member_id in ids:
            out = held_out(seed, member_id, campaign.holdout_percent)
            control += out
            targeted += not out
            rows.append(
                {
                    "campaign_id": campaign.id,
                    "run": campaign.run,
                    "member_id": member_id,
                    "group": "control" if out else "target",
                    "status": "held_out" if out else "pending",
                    "assigned_at": now,
                }
            )
        session.execute(insert(CampaignRecipient), rows)
        last = ids[-1]
    return targeted, control
