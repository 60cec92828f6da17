"""Each merchant's messaging settings: kinds on or off, templates, channels, limits.

Stored as one JSON document per merchant and read with the defaults filled
in, so a merchant who never saved settings has every kind off and sends
nothing. ``PUT`` replaces the document: what is left out takes its default.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from dataclasses import field
from datetime import time
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from marshmallow import ValidationError as SchemaError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.db import utcnow
from hub.errors import ValidationError
from hub.messaging.gateways import gateways
from hub.messaging.kinds import MessageKind
from hub.messaging.kinds import automatic_kinds
from hub.messaging.models import MessagingSettings
from hub.messaging.settings_schema import SettingsSchema
from hub.messaging.templates import LOCALES
from hub.messaging.templates import check_template
from hub.models import Connection
from hub.models import Merchant

if TYPE_CHECKING:
    from hub.core import Hub

DEFAULTS: dict[str, Any] = {
    "channel_order": ["zalo", "sms"],
    "connections": {"zalo": None, "sms": None, "email": None},
    "unicode": False,
    "transactional_needs_consent": False,
    "locale": None,
    "quiet_hours": {"enabled": True, "start": "21:00", "end": "08:00"},
    # T17 of the reliability notes: a handful a day per number, fewer a week.
    "caps": {"per_day": 3, "per_week": 10},
    "daily_budget": None,
    "daily_limit": None,
    # How to refuse, at the end of every advertising SMS (Decree 91/2020/ND-CP).
    "sms_opt_out": {"vi": "Từ chối nhận QC, trả lời TC", "en": "Reply STOP to opt out"},
    # The Zalo account's promotion (tag 3) quota, as Zalo's console shows it.
    "zns_promotion_quota": {"daily": None, "monthly": None},
    "kinds": {},
}
KIND_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "templates": {},
    "zalo_template": {"template_id": None, "tag": None, "params": {}},
    "email_subject": {},
    "options": {},
}


@dataclass(frozen=True)
class KindSettings:
    """One kind's settings for one merchant, defaults filled in.

    ``channels``, when set, replaces the merchant's channel order for this
    kind's messages (a campaign names its one channel); ``hold`` says why a
    message must wait instead of going now (a paused campaign).
    """

    kind: MessageKind
    enabled: bool
    templates: dict[str, str]
    zalo_template_id: str | None
    zalo_params: dict[str, str]
    options: dict[str, Any]
    zalo_tag: str | None = None
    email_subjects: dict[str, str] = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    hold: str | None = None
    refusal: str | None = None

    @property
    def reward_id(self) -> int | None:
        return self.options.get("reward_id") if self.kind.voucher else None

    def reward_for(self, cause: str | None) -> int | None:
        """The reward whose voucher goes with a message for ``cause``.

        A kind whose gift depends on its cause (tier-up: the tier reached)
        reads ``options.rewards`` by the cause's key; any other cause, or no
        entry for it, falls back to ``options.reward_id``.
        """
        if not self.kind.voucher:
            return None
        per_cause = self.options.get("rewards") or {}
        return per_cause.get(cause) if cause in per_cause else self.reward_id

    def template(self, locale: str, *, voucher: bool | None = None) -> str:
        """The merchant's template for ``locale``, else the kind's default.

        The default has the voucher's wording when a voucher goes with the
        message (``voucher``; by default, when the merchant named a reward).
        """
        if self.templates.get(locale):
            return self.templates[locale]
        if voucher is None:
            voucher = bool(self.reward_id)
        defaults = self.kind.voucher_templates if voucher else {}
        return defaults.get(locale) or self.kind.templates.get(locale) or ""


@dataclass(frozen=True)
class Settings:
    """A merchant's effective messaging settings."""

    merchant_id: int
    document: dict[str, Any]
    timezone: str
    currency: str
    merchant_locale: str
    shop: str

    def __getitem__(self, key: str) -> Any:
        return self.document[key]

    @property
    def locale(self) -> str:
        return self.document["locale"] or self.merchant_locale or "vi"

    def sms_opt_out(self, locale: str) -> str:
        """The opt-out instructions that end an advertising SMS in ``locale``."""
        wording = self.document["sms_opt_out"]
        return wording.get(locale) or wording.get("vi") or DEFAULTS["sms_opt_out"]["vi"]

    @property
    def daily_budget(self) -> Decimal | None:
        value = self.document["daily_budget"]
        return None if value is None else Decimal(value)

    def quiet_window(self) -> tuple[time, time] | None:
        quiet = self.document["quiet_hours"]
        if not quiet["enabled"] or quiet["start"] == quiet["end"]:
            return None
        return time.fromisoformat(quiet["start"]), time.fromisoformat(quiet["end"])

    def kind(self, kind: MessageKind) -> KindSettings:
        stored = self.document["kinds"].get(kind.name) or {}
        zalo = stored.get("zalo_template") or {}
        return KindSettings(
            kind=kind,
            enabled=bool(stored.get("enabled", False)),
            templates={k: v for k, v in (stored.get("templates") or {}).items() if v},
            zalo_template_id=zalo.get("template_id"),
            zalo_params=dict(zalo.get("params") or {}),
            options={**kind.defaults, **(stored.get("options") or {})},
            zalo_tag=zalo.get("tag"),
            email_subjects={k: v for k, v in (stored.get("email_subject") or {}).items() if v},
        )


def _with_defaults(stored: dict[str, Any] | None) -> dict[str, Any]:
    document = copy.deepcopy(DEFAULTS)
    for key, value in (stored or {}).items():
        if isinstance(document.get(key), dict) and key != "kinds":
            document[key] = {**document[key], **(value or {})}
        else:
            document[key] = value
    return document


def get_settings(session: Session, merchant_id: int, *, lock: bool = False) -> Settings:
    """Return the merchant's settings; ``lock`` holds the row until the transaction ends.

    Sends of one merchant take the lock while they check caps and budget,
    so two workers never both spend the last of a day's budget.
    """
    query = select(MessagingSettings).where(MessagingSettings.merchant_id == merchant_id)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    merchant = session.get(Merchant, merchant_id)
    return Settings(
        merchant_id=merchant_id,
        document=_with_defaults(row.settings if row else None),
        timezone=merchant.timezone if merchant else "UTC",
        currency=merchant.currency if merchant else "VND",
        merchant_locale=merchant.locale if merchant else "vi",
        shop=merchant.name if merchant else "",
    )


def settings_view(hub: Hub, settings: Settings) -> dict[str, Any]:
    """The document as the API shows it: every registered kind, with its defaults."""
    document = copy.deepcopy(settings.document)
    kinds = {}
    for name, kind in sorted(automatic_kinds(hub).items()):
        effective = settings.kind(kind)
        kinds[name] = {
            "enabled": effective.enabled,
            "templates": {loc: effective.template(loc) for loc in LOCALES},
            "zalo_template": {
                "template_id": effective.zalo_template_id,
                "tag": effective.zalo_tag,
                "params": effective.zalo_params,
            },
            "email_subject": effective.email_subjects,
            "options": effective.options,
        }
    document["kinds"] = kinds
    return document


def validate_settings(
    hub: Hub, session: Session, merchant_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """Check a settings document against the installed kinds, gateways and rewards.

    Returns the document to store (only what the merchant set).
    :raise ValidationError: with ``details`` keyed by the field's path.
    """
    try:
        loaded = SettingsSchema().load(data)
    except SchemaError as exc:
        raise ValidationError(
            "the messaging settings have invalid or unknown fields; see details",
            details=exc.messages,
        ) from None
    if "channel_order" in loaded and len(set(loaded["channel_order"])) != len(
        loaded["channel_order"]
    ):
        raise ValidationError(
            "channel_order names a channel twice",
            details={"channel_order": ["each channel at most once"]},
        )
    _check_connections(hub, session, merchant_id, loaded.get("connections") or {})
    kinds = automatic_kinds(hub)
    for name, kind_settings in (loaded.get("kinds") or {}).items():
        if name not in kinds:
            known = ", ".join(sorted(kinds)) or "none installed"
            raise ValidationError(
                f"unknown message kind {name!r}; installed kinds: {known}",
                details={f"kinds.{name}": ["unknown kind"]},
            )
        loaded["kinds"][name] = _check_kind(session, merchant_id, kinds[name], kind_settings)
    if loaded.get("daily_budget") is not None:
        loaded["daily_budget"] = str(loaded["daily_budget"])
    return loaded


def _check_connections(
    hub: Hub, session: Session, merchant_id: int, connections: dict[str, int | None]
) -> None:
    known = gateways(hub)
    for channel, connection_id in connections.items():
        if connection_id is None:
            continue
        field = f"connections.{channel}"
        connection = session.get(Connection, connection_id)
        if (
            connection is None
            or connection.merchant_id != merchant_id
            or connection.status == "deleted"
        ):
            raise ValidationError(
                f"connection {connection_id} not found; create it with POST /api/v1/connections",
                details={field: ["no such connection"]},
            )
        gateway = known.get(connection.connector)
        if gateway is None or channel not in gateway.channels:
            able = sorted(name for name, g in known.items() if channel in g.channels)
            raise ValidationError(
                f"connection {connection_id} ({connection.connector}) cannot send {channel} "
                f"messages; connectors that can: {', '.join(able) or 'none installed'}",
                details={field: [f"{connection.connector} does not send {channel}"]},
            )


def _check_kind(
    session: Session, merchant_id: int, kind: MessageKind, data: dict[str, Any]
) -> dict[str, Any]:
    allowed = kind.allowed_variables()
    for locale, template in (data.get("templates") or {}).items():
        if template:
            check_template(template, allowed, field=f"kinds.{kind.name}.templates.{locale}")
    for param, template in ((data.get("zalo_template") or {}).get("params") or {}).items():
        check_template(template, allowed, field=f"kinds.{kind.name}.zalo_template.params.{param}")
    for locale, template in (data.get("email_subject") or {}).items():
        if template:
            check_template(template, allowed, field=f"kinds.{kind.name}.email_subject.{locale}")
    if "options" in data:
        data["options"] = _check_options(session, merchant_id, kind, data["options"])
    return data


def _check_options(
    session: Session, merchant_id: int, kind: MessageKind, options: dict[str, Any]
) -> dict[str, Any]:
    field = f"kinds.{kind.name}.options"
    options = dict(options)
    reward_id = options.pop("reward_id", None) if kind.voucher else None
    per_cause = options.pop("rewards", None) if kind.voucher else None
    if kind.options is not None:
        try:
            options = kind.options().load(options)
        except SchemaError as exc:
            raise ValidationError(
                f"the options of message kind {kind.name!r} are invalid; see details",
                details={field: exc.messages},
            ) from None
    elif options:
        raise ValidationError(
            f"message kind {kind.name!r} has no options",
            details={field: ["no options for this kind"]},
        )
    if reward_id is not None:
        options["reward_id"] = _check_reward(session, merchant_id, reward_id, field)
    if per_cause:
        options["rewards"] = _check_rewards(session, merchant_id, per_cause, field)
    return options


def _check_rewards(
    session: Session, merchant_id: int, per_cause: Any, field: str
) -> dict[str, int | None]:
    """``options.rewards``: a reward id (or None: no voucher) for each cause's key."""
    if not isinstance(per_cause, dict):
        raise ValidationError(
            "options.rewards maps a cause (for tier-up, a tier id) to a reward id",
            details={f"{field}.rewards": ["not an object"]},
        )
    return {
        str(key): None
        if reward_id is None
        else _check_reward(session, merchant_id, reward_id, f"{field}.rewards.{key}")
        for key, reward_id in per_cause.items()
    }


def _check_reward(session: Session, merchant_id: int, reward_id: Any, field: str) -> int:
    from hub.models import Reward

    reward = session.get(Reward, reward_id) if isinstance(reward_id, int) else None
    if reward is None or reward.merchant_id != merchant_id:
        raise ValidationError(
            f"reward {reward_id!r} not found; create it with POST /api/v1/rewards",
            details={f"{field}.reward_id": ["no such reward"]},
        )
    return reward.id


def save_settings(
    hub: Hub, session: Session, merchant_id: int, data: dict[str, Any], *, actor: str
) -> Settings:
    """Validate and store the merchant's settings document (replacing the previous one)."""
    document = validate_settings(hub, session, merchant_id, data)
    row = session.scalars(
        select(MessagingSettings)
        .where(MessagingSettings.merchant_id == merchant_id)
        .with_for_update()
    ).first()
    if row is None:
        row = MessagingSettings(merchant_id=merchant_id, settings=document, actor=actor)
        session.add(row)
    else:
        row.settings = document
        row.actor = actor
        row.updated_at = utcnow()
    audit.record(
        session,
        merchant_id,
        actor=actor,
        action="messaging.settings_saved",
        object_type="messaging_settings",
        object_id=merchant_id,
        data={
            "kinds_on": sorted(k for k, v in document.get("kinds", {}).items() if v.get("enabled"))
        },
    )
    session.flush()
    return get_settings(session, merchant_id)
