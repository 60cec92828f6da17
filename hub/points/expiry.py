"""Write off points whose lot has passed its expiry: the daily expiry job.

Each expired lot gets one ``expire`` entry keyed ``expire:<lot id>`` and a
``points.expired`` event, so running the job twice, late or beside a
redemption changes nothing twice. Until the job runs, expired points already
count as neither available nor pending, and any debit writes them off first.
"""

from __future__ import annotations

import itertools
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from hub.db import utcnow
from hub.jobs import PeriodicJob
from hub.markers import hookimpl
from hub.models import Member
from hub.models import PointLot
from hub.points import ledger

if TYPE_CHECKING:
    from hub.core import Hub

log = logging.getLogger(__name__)

#: Members handled per transaction: their locks are held together.
MEMBERS_PER_TRANSACTION = 100
#: Lots read per round.
PAGE = 1000


def due_lots(hub: Hub, now: datetime, *, after_member: int = 0) -> list:
    """(member id, lot id) of lots past expiry with points left, by member, from a member on."""
    with hub.db.session() as session:
        return list(
            session.execute(
                select(PointLot.member_id, PointLot.id)
                .where(
                    PointLot.expires_at <= now,
                    PointLot.remaining > 0,
                    PointLot.member_id > after_member,
                )
                .order_by(PointLot.member_id, PointLot.id)
                .limit(PAGE)
            )
        )


def expire_due(hub: Hub, *, now: datetime | None = None) -> int:
    """Expire every lot past its expiry at ``now`` (default: the clock); return entries written."""
    now = now or utcnow()
    written = 0
    after_member = 0
    while rows := due_lots(hub, now, after_member=after_member):
        by_member = [
            (member_id, [lot for _, lot in group])
            for member_id, group in itertools.groupby(rows, key=lambda row: row[0])
        ]
        full = len(rows) == PAGE
        if full and len(by_member) > 1:
            by_member.pop()  # its lots may go on past this page: next round
        before = written
        for start in range(0, len(by_member), MEMBERS_PER_TRANSACTION):
            with hub.db.transaction() as session:
                for member_id, lots in by_member[start : start + MEMBERS_PER_TRANSACTION]:
                    written += _expire_lots(session, member_id, lots, now)
        if written == before:
            break  # nothing due could be written off: stop rather than spin
        if not (full and len(by_member) == 1):
            after_member = by_member[-1][0]
    return written


def _expire_lots(session, member_id: int, lots: list[int], now: datetime) -> int:
    member = session.get(Member, member_id)
    return sum(ledger.expire_lot(session, member, lot, now=now) is not None for lot in lots)


def run_expiry() -> int:
    """Job: the daily expiry run of this hub."""
    from hub.core import current_hub

    written = expire_due(current_hub())
    log.info("expired %d lots", written)
    return written


@hookimpl(trylast=True)
def register_periodic_jobs(hub):
    """Run the expiry daily, just after midnight (the worker's local time)."""
    return [
        PeriodicJob(name="points.expire", func="hub.points.expiry.run_expiry", cron="5 0 * * *")
    ]
