"""A small typed client for the hub's REST API (``/api/v1``), for scripts and ``hub remote``.

Each method makes one documented operation: the operations are listed in
``OPERATIONS`` (method, path, query names, body and answer types), and the
hub's tests check every one against the served OpenAPI document, so a method
cannot name a path, a parameter or a field the API does not have. Answers are
the API's JSON as ``TypedDict``s, with money (the document's ``decimal``
strings) as ``Decimal``. A failure answers ``ApiError`` with the API's stable
``code``.

    from hub.client import HubClient

    client = HubClient("https://hub.example.vn", key)
    for member in client.iter_members(q="lan"):
        print(member["code"], client.points(member["id"])["available"])

Requests go through the hub's HTTP client (timeouts, a cap on the answer's
size); the address is the operator's own hub, so loopback and private
addresses are allowed.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Generic
from typing import TypedDict
from typing import TypeVar
from urllib.parse import quote

from hub.address_policy import AddressPolicy
from hub.errors import HubError
from hub.http import OutsideHTTP
from hub.http import Timeout

T = TypeVar("T")


class Merchant(TypedDict):
    id: int
    name: str
    currency: str
    timezone: str
    locale: str
    created_at: str


class PointsSummary(TypedDict):
    available: int
    pending: int


class TierRef(TypedDict):
    id: int
    name: str


class Member(TypedDict):
    id: int
    code: str
    phone: str | None
    email: str | None
    name: str
    birthday: str | None
    province: str | None
    tags: list[str]
    status: str
    points: PointsSummary
    tier: TierRef | None
    created_at: str


class NewMember(TypedDict, total=False):
    """A member to create: a phone (any Vietnamese form, kept in E.164) or an email at least."""

    phone: str
    email: str
    name: str
    birthday: str
    province: str
    tags: list[str]


class Points(TypedDict):
    available: int
    pending: int
    total: int


class LedgerEntry(TypedDict):
    id: int
    kind: str
    points: int
    rule: str | None
    explanation: str
    note: str
    order_id: int | None
    reference: str | None
    actor: str
    created_at: str


class Adjustment(TypedDict):
    points: int
    reason: str


class Reward(TypedDict):
    id: int
    name: str
    kind: str
    value: Decimal | None
    points_cost: int
    min_order: Decimal
    active: bool


class Voucher(TypedDict):
    id: int
    code: str
    status: str
    member_id: int
    reward_name: str
    kind: str
    value: Decimal | None
    min_order: Decimal
    currency: str
    expires_at: str | None


class RedemptionRequest(TypedDict):
    reward_id: int


class Redemption(TypedDict):
    voucher: Voucher
    points_spent: int
    balance: int


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, and the cursor of the next page (None on the last)."""

    data: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Operation:
    """One operation of the document, as the client makes it."""

    method: str
    path: str
    answer: type
    query: tuple[str, ...] = ()
    body: type | None = None
    paged: bool = False


OPERATIONS: dict[str, Operation] = {
    "merchant": Operation("get", "/api/v1/merchant", Merchant),
    "list_members": Operation(
        "get",
        "/api/v1/members",
        Member,
        query=("q", "phone", "email", "tag", "tier_id", "limit", "cursor"),
        paged=True,
    ),
    "get_member": Operation("get", "/api/v1/members/{member_id}", Member),
    "create_member": Operation("post", "/api/v1/members", Member, body=NewMember),
    "points": Operation("get", "/api/v1/members/{member_id}/points", Points),
    "ledger": Operation(
        "get",
        "/api/v1/members/{member_id}/ledger",
        LedgerEntry,
        query=("limit", "cursor"),
        paged=True,
    ),
    "adjust_points": Operation(
        "post", "/api/v1/members/{member_id}/adjustments", LedgerEntry, body=Adjustment
    ),
    "list_rewards": Operation(
        "get", "/api/v1/rewards", Reward, query=("active", "limit", "cursor"), paged=True
    ),
    "redeem": Operation(
        "post", "/api/v1/members/{member_id}/redemptions", Redemption, body=RedemptionRequest
    ),
}


class ApiError(HubError):
    """The API answered an error: ``status``, its stable ``code``, ``message`` and ``details``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message, code=code, details=details if details is not None else {})
        self.status = status


class HubClient:
    """Calls one hub's API with one merchant's key; see the module docstring."""

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        timeout: Timeout = (5.0, 30.0),
        http: OutsideHTTP | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.http = http or OutsideHTTP(AddressPolicy(allow_loopback=True, allow_private=True))

    def merchant(self) -> Merchant:
        """The merchant the key belongs to."""
        return self._call("merchant")

    def list_members(self, **query: Any) -> Page[Member]:
        """One page of members; ``q``, ``phone``, ``email``, ``tag``, ``tier_id`` filter."""
        return self._call("list_members", query=query)

    def iter_members(self, **query: Any) -> Iterator[Member]:
        """Every member the filters match, page after page."""
        return self._every("list_members", query)

    def get_member(self, member_id: int) -> Member:
        return self._call("get_member", member_id=member_id)

    def create_member(self, member: NewMember, *, idempotency_key: str | None = None) -> Member:
        return self._call("create_member", body=member, idempotency_key=idempotency_key)

    def points(self, member_id: int) -> Points:
        """The member's balance: available, pending (not yet confirmed) and their total."""
        return self._call("points", member_id=member_id)

    def ledger(self, member_id: int, **query: Any) -> Page[LedgerEntry]:
        """One page of the member's ledger, newest first."""
        return self._call("ledger", member_id=member_id, query=query)

    def adjust_points(
        self, member_id: int, points: int, reason: str, *, idempotency_key: str | None = None
    ) -> LedgerEntry:
        """Add (or, negative, take) points by hand, with the reason shown to staff."""
        body = Adjustment(points=points, reason=reason)
        return self._call(
            "adjust_points", member_id=member_id, body=body, idempotency_key=idempotency_key
        )

    def list_rewards(self, **query: Any) -> Page[Reward]:
        return self._call("list_rewards", query=query)

    def redeem(
        self, member_id: int, reward_id: int, *, idempotency_key: str | None = None
    ) -> Redemption:
        """Spend the member's points on a reward; the answer carries the voucher issued."""
        body = RedemptionRequest(reward_id=reward_id)
        return self._call("redeem", member_id=member_id, body=body, idempotency_key=idempotency_key)

    def _every(self, name: str, query: dict[str, Any]) -> Iterator[Any]:
        cursor = None
        while True:
            page = self._call(name, query={**query, "cursor": cursor})
            yield from page.data
            if not page.next_cursor or not page.data:
                return
            cursor = page.next_cursor

    def _call(
        self,
        name: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        idempotency_key: str | None = None,
        **path: Any,
    ) -> Any:
        operation = OPERATIONS[name]
        unknown = set(query or {}) - set(operation.query)
        if unknown:
            raise TypeError(f"{name} takes no {', '.join(sorted(unknown))}")
        url = self.base_url + operation.path.format(
            **{key: quote(str(value), safe="") for key, value in path.items()}
        )
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = self.http.request(
            operation.method.upper(),
            url,
            params={k: _query_value(v) for k, v in (query or {}).items() if v is not None},
            json=body,
            headers=headers,
            timeout=self.timeout,
        )
        answer = _json(response)
        if not response.ok:
            error = answer.get("error") if isinstance(answer, dict) else None
            if not isinstance(error, dict):
                error = {"code": "http_error", "message": f"{response.status_code} from {url}"}
            raise ApiError(
                response.status_code,
                str(error.get("code", "http_error")),
                str(error.get("message", "")),
                error.get("details"),
            )
        if operation.paged:
            items = [typed(operation.answer, item) for item in answer["data"]]
            return Page(data=items, next_cursor=answer.get("next_cursor"))
        return typed(operation.answer, answer)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def typed(kind: Any, value: Any) -> Any:
    """``value`` (decoded JSON) with the document's decimal strings as ``Decimal``, by ``kind``."""
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        inner = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return typed(inner[0], value)
    if kind is Decimal:
        return Decimal(str(value))
    if origin is list:
        (item,) = typing.get_args(kind)
        return [typed(item, element) for element in value]
    if isinstance(kind, type) and issubclass(kind, dict) and hasattr(kind, "__annotations__"):
        hints = typing.get_type_hints(kind)
        return {
            key: typed(hints[key], item) if key in hints else item for key, item in value.items()
        }
    return value
