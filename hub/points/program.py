"""The loyalty program of a merchant: versioned settings, and what they mean for an order.

Settings are saved whole, validated, as a new ``program_versions`` row; a
version is never changed afterwards. The version in force for an order is
the latest one saved at or before the order was placed (the first one for
orders placed before any), so changing the earn rate today never changes
what last month's orders earned. A merchant that never saved settings runs
on the defaults, reported as version 0.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta
from decimal import ROUND_FLOOR
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema
from sqlalchemy import case
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.db import utcnow
from hub.errors import NotFound
from hub.errors import ValidationError
from hub.models import Merchant
from hub.models import ProgramVersion

if TYPE_CHECKING:
    from hub.canonical import Order
    from hub.core import Hub

ROUNDINGS = ("floor", "half_up")
EXPIRY_POLICIES = ("never", "days", "end_of_month", "end_of_year")


@dataclass(frozen=True)
class ProgramRule:
    """An earning rule a plugin offers, configured in the program's ``rules.<name>``.

    ``schema`` (a marshmallow ``Schema`` class) validates the section when the
    merchant saves the program; ``Program.rule(name)`` returns it loaded.
    """

    name: str
    title: str
    schema: type[Schema] | None = None
    description: str = ""


#: How amounts appear in the API spec: decimal strings, never floats.
AMOUNT = {"type": "string", "format": "decimal", "example": "1000"}


#: The largest amount a setting takes: the API's bound on money (NUMERIC(20, 4) holds it).
MAX_SETTING_AMOUNT = Decimal(10) ** 15
#: The smallest positive amount: the four decimals money is kept to.
MIN_SETTING_AMOUNT = Decimal("0.0001")


def positive(value: Decimal) -> None:
    if not MIN_SETTING_AMOUNT <= value <= MAX_SETTING_AMOUNT:
        raise SchemaError(f"must be between {MIN_SETTING_AMOUNT} and {MAX_SETTING_AMOUNT}")


def not_negative(value: Decimal) -> None:
    if not 0 <= value <= MAX_SETTING_AMOUNT:
        raise SchemaError(f"must be between 0 and {MAX_SETTING_AMOUNT}")


class EarnRateSchema(Schema):
    amount = fields.Decimal(
        as_string=True, required=True, allow_nan=False, validate=positive, metadata=AMOUNT
    )
    points = fields.Int(load_default=1, validate=validate.Range(min=1, max=1_000_000))


class EarnOnSchema(Schema):
    shipping = fields.Bool(load_default=False)
    tax = fields.Bool(load_default=False)


class ExpirySchema(Schema):
    policy = fields.Str(load_default="never", validate=validate.OneOf(EXPIRY_POLICIES))
    days = fields.Int(allow_none=True, load_default=None, validate=validate.Range(min=1, max=36500))
    months = fields.Int(
        allow_none=True, load_default=None, validate=validate.Range(min=0, max=1200)
    )

    @validates_schema
    def _needs(self, data: dict[str, Any], **_: Any) -> None:
        policy = data.get("policy", "never")
        if policy == "days" and data.get("days") is None:
            raise SchemaError("required when policy is days", "days")
        if policy.startswith("end_of") and data.get("months") is None:
            raise SchemaError(f"required when policy is {policy}", "months")


class ProgramSettingsSchema(Schema):
    """The program's settings; every field is optional and falls back to its default."""

    enabled = fields.Bool(load_default=True)
    earn_rate = fields.Nested(EarnRateSchema, load_default=None)
    rounding = fields.Str(load_default="floor", validate=validate.OneOf(ROUNDINGS))
    earn_on = fields.Nested(EarnOnSchema, load_default=None)
    minimum_order = fields.Decimal(
        as_string=True,
        load_default=Decimal(0),
        allow_nan=False,
        validate=not_negative,
        metadata=AMOUNT,
    )
    pending_days = fields.Int(load_default=0, validate=validate.Range(min=0, max=365))
    expiry = fields.Nested(ExpirySchema, load_default=None)
    start_date = fields.Date(allow_none=True, load_default=None)
    count_orders_before_start = fields.Bool(load_default=False)
    rules = fields.Dict(keys=fields.Str(), values=fields.Dict(), load_default=dict)

    def load_defaults(self, data: dict[str, Any]) -> dict[str, Any]:
        """Fill the nested sections a client left out with their defaults."""
        data["earn_rate"] = data["earn_rate"] or {"amount": Decimal(1000), "points": 1}
        data["earn_on"] = data["earn_on"] or {"shipping": False, "tax": False}
        data["expiry"] = data["expiry"] or {"policy": "never", "days": None, "months": None}
        return data


DEFAULT_SETTINGS: dict[str, Any] = ProgramSettingsSchema().dump(
    ProgramSettingsSchema().load_defaults(ProgramSettingsSchema().load({}))
)


@dataclass(frozen=True)
class Program:
    """The program version in force: what an order earns, when points unlock and expire.

    Passed to ``points_for_order`` hooks. Amounts are in the merchant's currency.
    """

    merchant_id: int
    version: int
    timezone: str = "Asia/Ho_Chi_Minh"
    currency: str = "VND"
    enabled: bool = True
    earn_amount: Decimal = Decimal(1000)
    earn_points: int = 1
    rounding: str = "floor"
    include_shipping: bool = False
    include_tax: bool = False
    minimum_order: Decimal = Decimal(0)
    pending_days: int = 0
    expiry_policy: str = "never"
    expiry_days: int | None = None
    expiry_months: int | None = None
    start_date: date | None = None
    count_orders_before_start: bool = False
    rules: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    settings: Mapping[str, Any] = field(default_factory=dict, repr=False)
    _rule_schemas: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _loaded: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_settings(
        cls,
        merchant_id: int,
        version: int,
        settings: Mapping[str, Any],
        *,
        timezone: str = "Asia/Ho_Chi_Minh",
        currency: str = "VND",
        created_at: datetime | None = None,
        rule_schemas: Mapping[str, Any] | None = None,
    ) -> Program:
        """Build from stored (already validated) settings; missing keys take their defaults."""
        merged = {**DEFAULT_SETTINGS, **settings}
        rate, earn_on, expiry = merged["earn_rate"], merged["earn_on"], merged["expiry"]
        start = merged.get("start_date")
        return cls(
            merchant_id=merchant_id,
            version=version,
            timezone=timezone,
            currency=currency,
            enabled=bool(merged["enabled"]),
            earn_amount=Decimal(str(rate["amount"])),
            earn_points=int(rate.get("points", 1)),
            rounding=merged["rounding"],
            include_shipping=bool(earn_on.get("shipping")),
            include_tax=bool(earn_on.get("tax")),
            minimum_order=Decimal(str(merged["minimum_order"])),
            pending_days=int(merged["pending_days"]),
            expiry_policy=expiry.get("policy", "never"),
            expiry_days=expiry.get("days"),
            expiry_months=expiry.get("months"),
            start_date=date.fromisoformat(start) if isinstance(start, str) else start,
            count_orders_before_start=bool(merged["count_orders_before_start"]),
            rules=dict(merged.get("rules") or {}),
            created_at=created_at,
            settings=merged,
            _rule_schemas=dict(rule_schemas or {}),
        )

    # -- earning ------------------------------------------------------------

    def earning_base(self, order: Order) -> Decimal:
        """The amount the earn rate applies to: the total after discounts, less what is excluded.

        Shipping and tax are taken out unless the program includes them; gift
        card lines are always taken out (buying a gift card earns nothing; the
        order it pays for does).
        """
        base = order.total
        if not self.include_shipping:
            base -= order.shipping
        if not self.include_tax:
            base -= order.tax
        for line in order.lines:
            if line.gift_card:
                base -= line.price * line.quantity - line.total_discount
        return max(base, Decimal(0))

    def points_for(self, amount: Decimal) -> int:
        """Points the earn rate gives for ``amount``, rounded as the program says."""
        if amount <= 0:
            return 0
        raw = amount * self.earn_points / self.earn_amount
        mode = ROUND_HALF_UP if self.rounding == "half_up" else ROUND_FLOOR
        return int(raw.quantize(Decimal(1), rounding=mode))

    def ineligible(self, order: Order) -> str | None:
        """Why the order earns nothing under this program, or None when it earns."""
        if not self.enabled:
            return "program_disabled"
        if order.currency.upper() != self.currency.upper():
            return "currency"
        if self.start_date and not self.count_orders_before_start and self._before_start(order):
            return "before_start"
        if self.earning_base(order) < self.minimum_order:
            return "below_minimum"
        return None

    def _before_start(self, order: Order) -> bool:
        return self.local(order.placed_at).date() < self.start_date

    def rule(self, name: str) -> dict[str, Any] | None:
        """The settings of earning rule ``name``, loaded by its schema; None when it is off.

        A rule is on when its section exists and does not say ``"enabled": false``.
        """
        section = self.rules.get(name)
        if not isinstance(section, Mapping) or section.get("enabled", True) is False:
            return None
        if name not in self._loaded:
            schema = self._rule_schemas.get(name)
            self._loaded[name] = schema().load(dict(section)) if schema else dict(section)
        return self._loaded[name]

    # -- time ---------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the merchant's timezone."""
        return moment.astimezone(ZoneInfo(self.timezone))

    def available_at(self, awarded_at: datetime) -> datetime:
        """When points awarded at ``awarded_at`` become spendable."""
        return awarded_at + timedelta(days=self.pending_days)

    def expires_at(self, awarded_at: datetime) -> datetime | None:
        """When points awarded at ``awarded_at`` expire (exclusive), or None for never.

        ``days``: N days after the award. ``end_of_month`` / ``end_of_year``:
        the end of the month (or year) in which the award's date plus N months
        falls, in the merchant's timezone.
        """
        if self.expiry_policy == "days":
            return awarded_at + timedelta(days=self.expiry_days or 0)
        if self.expiry_policy not in ("end_of_month", "end_of_year"):
            return None
        local = self.local(awarded_at)
        index = local.year * 12 + (local.month - 1) + (self.expiry_months or 0)
        if self.expiry_policy == "end_of_year":
            boundary = date(index // 12 + 1, 1, 1)
        else:
            year, month = divmod(index + 1, 12)
            boundary = date(year, month + 1, 1)
        end = datetime.combine(boundary, time(), ZoneInfo(self.timezone))
        return end.astimezone(UTC)


def format_amount(amount: Decimal) -> str:
    """``250000.0000`` as ``250,000``; ``12.5000`` as ``12.5``."""
    if amount == amount.to_integral_value():
        return f"{amount.to_integral_value():,f}"
    return f"{amount.normalize():,f}"


# -- storage ------------------------------------------------------------------

_RULES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def program_rules(hub: Hub) -> dict[str, ProgramRule]:
    """Every earning rule the installed plugins offer, by name."""
    cached = _RULES.get(hub.pm)
    if cached is None:
        cached = {}
        for rules in hub.pm.hook.register_program_rules(hub=hub):
            for rule in rules or []:
                cached[rule.name] = rule
        _RULES[hub.pm] = cached
    return cached


def _schemas(hub: Hub | None) -> dict[str, Any]:
    if hub is None:
        return {}
    return {name: rule.schema for name, rule in program_rules(hub).items() if rule.schema}


def program_for(
    hub: Hub | None, session: Session, merchant_id: int, at: datetime | None = None
) -> Program:
    """Return the program version in force at ``at`` (default now), in one query.

    That is the latest version saved at or before ``at``, or the first
    version when ``at`` is older than all of them, or the defaults (version
    0) when the merchant never saved any.
    """
    at = at or utcnow()
    in_force = ProgramVersion.created_at <= at
    row = session.execute(
        select(
            Merchant.timezone,
            Merchant.currency,
            ProgramVersion.version,
            ProgramVersion.settings,
            ProgramVersion.created_at,
        )
        .select_from(Merchant)
        .outerjoin(ProgramVersion, ProgramVersion.merchant_id == Merchant.id)
        .where(Merchant.id == merchant_id)
        .order_by(
            case((in_force, 0), else_=1),
            case((in_force, -ProgramVersion.version), else_=ProgramVersion.version),
        )
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(f"merchant {merchant_id} not found", code="merchant_not_found")
    return Program.from_settings(
        merchant_id,
        row.version or 0,
        row.settings or {},
        timezone=row.timezone,
        currency=row.currency,
        created_at=row.created_at,
        rule_schemas=_schemas(hub),
    )


class ProgramsInForce:
    """Every program version of one merchant, read once: ``at(moment)`` is ``program_for``'s
    answer for that moment, without a query. For a batch of orders placed at many moments."""

    def __init__(self, hub: Hub | None, session: Session, merchant_id: int) -> None:
        merchant = session.execute(
            select(Merchant.timezone, Merchant.currency).where(Merchant.id == merchant_id)
        ).first()
        if merchant is None:
            raise NotFound(f"merchant {merchant_id} not found", code="merchant_not_found")
        self._versions = session.execute(
            select(ProgramVersion.version, ProgramVersion.settings, ProgramVersion.created_at)
            .where(ProgramVersion.merchant_id == merchant_id)
            .order_by(ProgramVersion.version)
        ).all()
        self._merchant_id = merchant_id
        self._timezone, self._currency = merchant.timezone, merchant.currency
        self._schemas = _schemas(hub)
        self._built: dict[int, Program] = {}

    def at(self, moment: datetime) -> Program:
        # The rule of program_for: the latest version saved at or before the moment,
        # else the first version, else the defaults (version 0).
        chosen = None
        for row in self._versions:
            if row.created_at <= moment and (chosen is None or row.version > chosen.version):
                chosen = row
        if chosen is None and self._versions:
            chosen = self._versions[0]
        version = chosen.version if chosen is not None else 0
        program = self._built.get(version)
        if program is None:
            program = self._built[version] = Program.from_settings(
                self._merchant_id,
                version,
                chosen.settings if chosen is not None else {},
                timezone=self._timezone,
                currency=self._currency,
                created_at=chosen.created_at if chosen is not None else None,
                rule_schemas=self._schemas,
            )
        return program


def latest_version(session: Session, merchant_id: int) -> ProgramVersion | None:
    return session.scalars(
        select(ProgramVersion)
        .where(ProgramVersion.merchant_id == merchant_id)
        .order_by(ProgramVersion.version.desc())
        .limit(1)
    ).first()


def list_versions(
    session: Session, merchant_id: int, *, before: int | None = None, limit: int = 50
) -> list[ProgramVersion]:
    """Saved versions, newest first, older than version ``before`` when given."""
    query = select(ProgramVersion).where(ProgramVersion.merchant_id == merchant_id)
    if before:
        query = query.where(ProgramVersion.version < before)
    return list(session.scalars(query.order_by(ProgramVersion.version.desc()).limit(limit)))


def validate_settings(hub: Hub, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Return the settings normalised (defaults filled in), or raise ``ValidationError``.

    Each ``rules.<name>`` section must belong to an installed plugin's rule
    and pass that rule's schema.
    """
    schema = ProgramSettingsSchema()
    try:
        loaded = schema.load_defaults(schema.load(dict(settings)))
    except SchemaError as exc:
        raise ValidationError(
            "the program settings are not valid; see details for each field",
            details=exc.messages,
        ) from None
    known = program_rules(hub)
    errors: dict[str, Any] = {}
    rules: dict[str, Any] = {}
    for name, section in loaded["rules"].items():
        rule = known.get(name)
        if rule is None:
            errors[name] = [
                f"no installed plugin offers the rule {name!r}; "
                f"known rules: {', '.join(sorted(known)) or 'none'}"
            ]
            continue
        if rule.schema is None:
            rules[name] = section
            continue
        try:
            rules[name] = rule.schema().dump(rule.schema().load(section))
        except SchemaError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationError(
            "some earning rules are not valid; see details.rules", details={"rules": errors}
        )
    dumped = schema.dump(loaded)
    dumped["rules"] = rules
    return dumped


def save_program(
    hub: Hub,
    session: Session,
    merchant_id: int,
    settings: Mapping[str, Any],
    *,
    actor: str,
    now: datetime | None = None,
) -> tuple[ProgramVersion, bool]:
    """Validate and save the settings as a new version; return it and whether it is new.

    Saving settings equal to the latest version's writes nothing and returns
    that version.
    """
    normalised = validate_settings(hub, settings)
    merchant = session.get(Merchant, merchant_id, with_for_update=True)
    if merchant is None:
        raise NotFound(f"merchant {merchant_id} not found", code="merchant_not_found")
    current = latest_version(session, merchant_id)
    if current is not None and current.settings == normalised:
        return current, False
    row = ProgramVersion(
        merchant_id=merchant_id,
        version=(current.version if current else 0) + 1,
        settings=normalised,
        actor=actor,
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        merchant_id,
        actor=actor,
        action="program.saved",
        object_type="program",
        object_id=row.version,
    )
    return row, True
