"""Members: create, update, find, erase, consents and identities.

Phone numbers are stored in E.164 and emails lower-cased; both are unique per
merchant. Every function takes the caller's session and leaves the commit to
it, so a request's changes land together or not at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from hub import audit
from hub.db import latest_today
from hub.db import utcnow
from hub.errors import Conflict
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.events import emit
from hub.folding import fold
from hub.members import search as member_search
from hub.members.search import MemberFilters
from hub.models import Connection
from hub.models import Member
from hub.models import MemberConsent
from hub.models import MemberIdentity
from hub.phones import normalize_email
from hub.phones import normalize_phone

CHANNELS = ("sms", "zalo", "email")
GENDERS = ("female", "male", "other")
PROFILE_FIELDS = (
    "name",
    "birthday",
    "gender",
    "province",
    "district",
    "ward",
    "address",
    "tags",
    "attributes",
)
#: How a member can join, as ``Member.joined_via`` records it.
JOIN_SOURCES = ("store", "pos", "import", "widget", "api")
# Crockford's alphabet without I, L, O, U: nothing a cashier can misread.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_member_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def joined_via(source: str) -> str:
    """What a creation's ``source`` (``connection``, ``pos:<location>``, ``import``...) records
    as the way the member joined."""
    if source == "connection":
        return "store"
    if source.startswith("pos"):
        return "pos"
    return source if source in ("import", "widget") else "api"


def get_member(session: Session, merchant_id: int, member_id: int) -> Member:
    """Return the merchant's member; another merchant's id is simply not found."""
    member = session.get(Member, member_id)
    if member is None or member.merchant_id != merchant_id or member.status == "erased":
        raise NotFound(f"member {member_id} not found", code="member_not_found")
    return member


def find_member(
    session: Session,
    merchant_id: int,
    *,
    phone: str | None = None,
    email: str | None = None,
    code: str | None = None,
) -> Member | None:
    """Return the active member with this normalised phone, email or code."""
    if phone and not (email or code):
        known, member = _prefetched(session, ("phone", merchant_id, phone))
        if known:
            return member
    clauses = []
    if phone:
        clauses.append(Member.phone == phone)
    if email:
        clauses.append(Member.email == email)
    if code:
        clauses.append(Member.code == code.upper())
    if not clauses:
        return None
    return session.scalars(
        select(Member).where(
            Member.merchant_id == merchant_id, Member.status == "active", or_(*clauses)
        )
    ).first()


def _check_unique(
    session: Session, merchant_id: int, field: str, value: Any, exclude_id: int | None = None
) -> None:
    if value is None:
        return
    if _prefetched(session, (field, merchant_id, value)) == (True, None):
        return  # looked up for the batch: no member has it
    column = getattr(Member, field)
    query = select(Member.id).where(Member.merchant_id == merchant_id, column == value)
    if exclude_id is not None:
        query = query.where(Member.id != exclude_id)
    other = session.scalar(query)
    if other is not None:
        raise Conflict(
            f"another member (id {other}) already has this {field}",
            details={field: [f"already used by member {other}"]},
            code=f"duplicate_{field}",
        )


def _clean(changes: dict[str, Any], region: str) -> dict[str, Any]:
    cleaned = dict(changes)
    if "phone" in cleaned:
        cleaned["phone"] = normalize_phone(cleaned["phone"], region)
    if "email" in cleaned:
        cleaned["email"] = normalize_email(cleaned["email"])
    if cleaned.get("gender") is not None and cleaned["gender"] not in GENDERS:
        raise ValidationError(
            f"unknown gender {cleaned['gender']!r}",
            details={"gender": [f"one of {', '.join(GENDERS)}"]},
        )
    # A birthday has no timezone: it is in the future only once it is past today everywhere.
    if isinstance(cleaned.get("birthday"), date) and cleaned["birthday"] > latest_today():
        raise ValidationError("birthday is in the future", details={"birthday": ["in the future"]})
    if "tags" in cleaned:
        cleaned["tags"] = sorted({t.strip() for t in cleaned["tags"] or [] if t.strip()})
    return cleaned


def create_member(
    session: Session,
    merchant_id: int,
    data: dict[str, Any],
    *,
    source: str = "api",
    region: str = "VN",
    or_theirs: bool = False,
    actor: str | None = None,
) -> Member:
    """Create a member from profile fields, ``phone``, ``email`` and ``consents``.

    With ``or_theirs``, a member another transaction creates meanwhile with the
    same phone or email is returned instead (on PostgreSQL the insert waits for
    that transaction and then does nothing), where otherwise this transaction
    would fail: for matching a store's customer, whose orders concurrent
    workers may record at once.

    :raise Conflict: the phone or email belongs to another member.
    """
    consents = data.pop("consents", None) or {}
    evidence = data.pop("consent_evidence", None)
    cleaned = _clean(data, region)
    if not (cleaned.get("phone") or cleaned.get("email") or cleaned.get("name")):
        raise ValidationError(
            "a member needs at least a phone, an email or a name",
            details={"phone": ["phone, email or name is required"]},
        )
    _check_unique(session, merchant_id, "phone", cleaned.get("phone"))
    _check_unique(session, merchant_id, "email", cleaned.get("email"))
    values = {
        **cleaned,
        "merchant_id": merchant_id,
        "code": _unique_code(session, merchant_id),
        "joined_via": joined_via(source),
        "tags": cleaned.get("tags") or [],
        "attributes": cleaned.get("attributes") or {},
    }
    if or_theirs and session.get_bind().dialect.name == "postgresql":
        insert = postgresql.insert(Member).values(values).on_conflict_do_nothing()
        with session.no_autoflush:  # what waits (links, events) goes with a later flush
            member = session.scalars(insert.returning(Member)).first()
        if member is None:
            return _theirs(session, merchant_id, cleaned)
    else:
        member = Member(**values)
        session.add(member)
        session.flush()
    _remember(session, ("phone", merchant_id, member.phone), member)
    for channel, granted in consents.items():
        set_consent(
            session, member, channel, granted, source=source, actor=actor, evidence=evidence
        )
    emit(
        session,
        "member.created",
        merchant_id,
        {"member_id": member.id, "source": source},
    )
    return member


def _theirs(session: Session, merchant_id: int, cleaned: dict[str, Any]) -> Member:
    """The member another transaction created, just now, with this phone or email."""
    prefetch = session.info.get(_PREFETCHED)
    if prefetch is not None:
        # That transaction may have linked store customer ids too: ask the database again.
        prefetch.free = {key for key in prefetch.free if key[0] != "identity"}
    for field in ("phone", "email"):
        value = cleaned.get(field)
        if value is None:
            continue
        if prefetch is not None:
            prefetch.free.discard((field, merchant_id, value))  # not free any more
        member = find_member(session, merchant_id, **{field: value})
        if member is not None:
            _remember(session, ("phone", merchant_id, member.phone), member)
            return member
    _check_unique(session, merchant_id, "phone", cleaned.get("phone"))
    _check_unique(session, merchant_id, "email", cleaned.get("email"))
    raise Conflict("a member with this phone or email was created meanwhile; try again")


def _unique_code(session: Session, merchant_id: int) -> str:
    if _PREFETCHED in session.info:
        # In a batch the unique constraint alone guards: of 32^8 codes, a new one clashes
        # about once in a million even at a million members, and the clash fails the
        # batch's insert, which is then retried one order at a time (checked below).
        return new_member_code()
    while True:
        code = new_member_code()
        taken = session.scalar(
            select(exists().where(Member.merchant_id == merchant_id, Member.code == code))
        )
        if not taken:
            return code


def update_member(
    session: Session,
    member: Member,
    changes: dict[str, Any],
    *,
    region: str = "VN",
    source: str = "api",
    actor: str | None = None,
) -> Member:
    """Apply ``changes`` to a member; only the fields given change."""
    consents = changes.pop("consents", None) or {}
    evidence = changes.pop("consent_evidence", None)
    cleaned = _clean(changes, region)
    for field in ("phone", "email"):
        if field in cleaned:
            _check_unique(session, member.merchant_id, field, cleaned[field], member.id)
    changed = sorted(k for k, v in cleaned.items() if getattr(member, k) != v)
    for key in changed:
        setattr(member, key, cleaned[key])
    if "phone" in changed:
        _remember(session, ("phone", member.merchant_id, member.phone), member)
    for channel, granted in consents.items():
        set_consent(
            session, member, channel, granted, source=source, actor=actor, evidence=evidence
        )
    if changed or consents:
        session.flush()
        emit(
            session,
            "member.updated",
            member.merchant_id,
            {"member_id": member.id, "fields": changed + sorted(consents)},
        )
    return member


def set_consent(
    session: Session,
    member: Member,
    channel: str,
    granted: bool,
    *,
    source: str = "api",
    actor: str | None = None,
    evidence: str | None = None,
) -> MemberConsent:
    """Record the member's marketing consent on one channel, as it can be shown later.

    Keeps when, how (``source``), who recorded it (``actor``, else the
    source) and what the member agreed to (``evidence``); each change also
    goes to the audit log, so earlier grants and withdrawals stay on record.
    """
    if channel not in CHANNELS:
        raise ValidationError(
            f"unknown channel {channel!r}",
            details={"consents": [f"one of {', '.join(CHANNELS)}"]},
        )
    consent = session.scalars(
        select(MemberConsent).where(
            MemberConsent.member_id == member.id, MemberConsent.channel == channel
        )
    ).first()
    if consent is not None and consent.granted == bool(granted):
        return consent
    if consent is None:
        consent = MemberConsent(
            merchant_id=member.merchant_id, member_id=member.id, channel=channel
        )
        session.add(consent)
    consent.granted = bool(granted)
    consent.source = source
    consent.actor = (actor or source)[:100]
    consent.evidence = evidence[:500] if evidence else None
    consent.changed_at = utcnow()
    audit.record(
        session,
        member.merchant_id,
        actor=consent.actor,
        action="member.consent_granted" if granted else "member.consent_withdrawn",
        object_type="member",
        object_id=member.id,
        data={"channel": channel, "source": source, "evidence": consent.evidence},
    )
    return consent


def consents_of(session: Session, member_id: int) -> list[MemberConsent]:
    return list(
        session.scalars(
            select(MemberConsent)
            .where(MemberConsent.member_id == member_id)
            .order_by(MemberConsent.channel)
        )
    )


def identities_of(session: Session, member_id: int) -> list[MemberIdentity]:
    return list(
        session.scalars(
            select(MemberIdentity)
            .where(MemberIdentity.member_id == member_id)
            .order_by(MemberIdentity.id)
        )
    )


def add_identity(
    session: Session, member: Member, connection_id: int, external_id: str
) -> MemberIdentity:
    """Link the member to the id a connection's platform knows them by."""
    connection = session.get(Connection, connection_id)
    if connection is None or connection.merchant_id != member.merchant_id:
        raise NotFound(f"connection {connection_id} not found", code="connection_not_found")
    if _prefetched(session, ("identity", connection_id, str(external_id))) == (True, None):
        existing = None  # looked up for the batch: no member has it
    else:
        existing = session.scalars(
            select(MemberIdentity).where(
                MemberIdentity.connection_id == connection_id,
                MemberIdentity.external_id == str(external_id),
            )
        ).first()
    if existing is not None:
        if existing.member_id != member.id:
            raise Conflict(
                f"customer {external_id} of connection {connection_id} is already "
                f"linked to member {existing.member_id}; merge the two members instead",
                code="identity_taken",
            )
        return existing
    identity = MemberIdentity(
        merchant_id=member.merchant_id,
        member_id=member.id,
        connection_id=connection_id,
        external_id=str(external_id),
    )
    session.add(identity)
    if _PREFETCHED not in session.info:
        session.flush()  # a clash shows here; in a batch, with the next flush (fewer trips)
    _remember(session, ("identity", connection_id, str(external_id)), member)
    return identity


def member_by_identity(session: Session, connection_id: int, external_id: str) -> Member | None:
    known, member = _prefetched(session, ("identity", connection_id, str(external_id)))
    if known:
        return member
    return session.scalars(
        select(Member)
        .join(MemberIdentity, MemberIdentity.member_id == Member.id)
        .where(
            MemberIdentity.connection_id == connection_id,
            MemberIdentity.external_id == str(external_id),
            Member.status == "active",
        )
    ).first()


_PREFETCHED = "hub_members_prefetched"


class _Prefetch:
    """What ``members_prefetched`` looked up: the active members it found by phone and by
    customer id, and the phones and customer ids no member has (``free``)."""

    __slots__ = ("found", "free")

    def __init__(self) -> None:
        self.found: dict[tuple[str, int, str], Member] = {}
        self.free: set[tuple[str, int, str]] = set()


def _prefetched(session: Session, key: tuple[str, int, str]) -> tuple[bool, Member | None]:
    """Inside ``members_prefetched``: (True, the member or None) when the batch's lookup
    knows who has ``key`` (a phone or email, or a store customer id), else (False, None)."""
    prefetch = session.info.get(_PREFETCHED)
    if prefetch is not None:
        if key in prefetch.found:
            return True, prefetch.found[key]
        if key in prefetch.free:
            return True, None
    return False, None


def _remember(session: Session, key: tuple[str, int, str | None], member: Member) -> None:
    """Inside ``members_prefetched``, what this transaction creates is found like the rest."""
    prefetch = session.info.get(_PREFETCHED)
    kind, owner, value = key
    if prefetch is not None and value:
        prefetch.found[(kind, owner, value)] = member
        prefetch.free.discard((kind, owner, value))


@contextmanager
def members_prefetched(
    session: Session,
    merchant_id: int,
    *,
    phones: Iterable[str] = (),
    connection_id: int | None = None,
    external_ids: Iterable[str] = (),
) -> Iterator[None]:
    """Look up many members at once for a batch; ``find_member``, ``member_by_identity``,
    ``create_member`` and ``add_identity`` answer from what was found until the block ends.

    Two queries in all instead of several per customer. A phone or customer id
    no member has (of any status) is known free: looking it up answers None,
    and creating a member with it or linking it asks nothing more. Members
    created and customer ids linked in the block are added as found. The
    unique constraints still guard: a member another transaction creates
    meanwhile fails this one's insert, and the caller's retry finds it.
    """
    prefetch = _Prefetch()
    phones = {p for p in phones if p}
    if phones:
        taken = set()
        for member in session.scalars(
            select(Member).where(Member.merchant_id == merchant_id, Member.phone.in_(phones))
        ):
            taken.add(member.phone)
            if member.status == "active":
                prefetch.found[("phone", merchant_id, member.phone)] = member
        prefetch.free.update(("phone", merchant_id, p) for p in phones - taken)
    external_ids = {str(e) for e in external_ids if e}
    if connection_id is not None and external_ids:
        linked = set()
        for member, external_id in session.execute(
            select(Member, MemberIdentity.external_id)
            .join(MemberIdentity, MemberIdentity.member_id == Member.id)
            .where(
                MemberIdentity.connection_id == connection_id,
                MemberIdentity.external_id.in_(external_ids),
            )
        ):
            linked.add(external_id)
            if member.status == "active":
                prefetch.found[("identity", connection_id, external_id)] = member
        prefetch.free.update(("identity", connection_id, e) for e in external_ids - linked)
    session.info[_PREFETCHED] = prefetch
    try:
        yield
    finally:
        session.info.pop(_PREFETCHED, None)


def erase_member(session: Session, member: Member, *, actor: str, reason: str = "deleted") -> None:
    """Remove a member's personal data; their ledger and orders stay, anonymous.

    The row is kept so balances and history still add up, but nothing left on
    it identifies a person.
    """
    for field in (
        "phone",
        "email",
        "birthday",
        "gender",
        "province",
        "district",
        "ward",
        "address",
    ):
        setattr(member, field, None)
    member.name = ""
    member.tags = []
    member.attributes = {}
    member.status = "erased"
    for row in identities_of(session, member.id) + consents_of(session, member.id):
        session.delete(row)
    audit.record(
        session,
        member.merchant_id,
        actor=actor,
        action=f"member.{reason}",
        object_type="member",
        object_id=member.id,
    )
    session.flush()
    emit(session, "member.deleted", member.merchant_id, {"member_id": member.id})


def search_members(
    session: Session,
    merchant_id: int,
    *,
    q: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    tag: str | None = None,
    filters: MemberFilters | None = None,
    sort: str = "id",
    after_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
    region: str = "VN",
) -> list[Member]:
    """Return active members matching every filter given, in ``sort`` order.

    ``q`` matches the name without regard to accents or case (``nguyen`` finds
    ``Nguyễn``), the email, the phone's digits or the member code. Pages go by
    ``after_id`` (sorted by id) or by ``offset``.
    """
    query = members_query(
        session, merchant_id, q=q, phone=phone, email=email, tag=tag, filters=filters, region=region
    )
    if after_id:
        query = query.where(Member.id > after_id)
    query = member_search.order_by(query, sort)
    return list(session.scalars(query.offset(offset).limit(limit)))


def count_members(session: Session, merchant_id: int, **conditions: Any) -> int:
    """How many active members ``search_members`` would find with these conditions."""
    query = members_query(session, merchant_id, **conditions)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def members_query(
    session: Session,
    merchant_id: int,
    *,
    q: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    tag: str | None = None,
    filters: MemberFilters | None = None,
    region: str = "VN",
) -> Any:
    """The ``select(Member)`` of the active members that meet every condition given."""
    query = select(Member).where(Member.merchant_id == merchant_id, Member.status == "active")
    if phone:
        query = query.where(Member.phone == normalize_phone(phone, region))
    if email:
        query = query.where(Member.email == normalize_email(email))
    if q and q.strip():
        text = q.strip()
        # autoescape: a % or _ the client typed matches itself, not any characters.
        clauses = [
            Member.search_name.contains(fold(text), autoescape=True),
            Member.email.icontains(text, autoescape=True),
            Member.code == text.upper(),
        ]
        digits = text.lstrip("0+")
        if digits:
            clauses.append(Member.phone.contains(digits, autoescape=True))
        query = query.where(or_(*clauses))
    if tag:
        query = query.where(_has_tag(session, tag))
    if filters is not None:
        query = member_search.apply_filters(query, filters)
    return query


def _has_tag(session: Session, tag: str) -> Any:
    """A filter for members whose JSON tag list contains ``tag``, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(Member.tags, JSONB).contains([tag])
    each = func.json_each(Member.tags).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value == tag))
