"""Message kinds: what a plugin registers for each automatic message it sends.

A kind names its default templates per locale, the placeholders it offers
on top of the member's own, sample values for previews, and whether it is
marketing (needs the member's consent on the channel) or transactional
(the merchant chooses). Plugins return kinds from ``register_message_kinds``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from marshmallow import Schema

if TYPE_CHECKING:
    from hub.core import Hub

CATEGORIES = ("transactional", "marketing")

#: Placeholders every message offers, from the member and the merchant.
MEMBER_VARIABLES = ("name", "first_name", "points", "tier", "code", "shop")
#: What those look like in a preview without a member.
MEMBER_SAMPLE = {
    "name": "Nguyễn Thị Lan",
    "first_name": "Lan",
    "points": 1250,
    "tier": "Vàng",
    "code": "7K2M9QXD",
    "shop": "Cửa hàng Hoa Mai",
}


@dataclass(frozen=True)
class MessageKind:
    """An automatic message a merchant can switch on, with its default wording.

    ``templates`` maps a locale (``vi``, ``en``) to the default text.
    ``variables`` are the kind's own placeholders, ``sample`` their values in
    a preview. ``options`` is a marshmallow schema for the kind's own
    settings (days before, send hour), ``defaults`` their values. With
    ``voucher`` the merchant may name a reward (``options.reward_id``) whose
    voucher goes with each message, its code in ``{voucher_code}``;
    ``voucher_templates`` are then the default wording.

    ``resolve``, for messages whose settings are not the merchant's kind
    settings but their cause's (a campaign's channel, ZNS template, state),
    is called right before each send as ``resolve(session, message,
    kind_settings)`` and returns the ``KindSettings`` that apply. Such a
    kind is not ``automatic``: merchants do not switch it on in the
    messaging settings, its cause sends it.
    """

    name: str
    title: str
    category: str
    templates: dict[str, str]
    variables: tuple[str, ...] = ()
    sample: dict[str, Any] = field(default_factory=dict)
    options: type[Schema] | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    voucher: bool = False
    voucher_templates: dict[str, str] = field(default_factory=dict)
    description: str = ""
    resolve: Callable[..., Any] | None = None
    automatic: bool = True

    @property
    def marketing(self) -> bool:
        return self.category == "marketing"

    def allowed_variables(self) -> set[str]:
        extra = ("voucher_code", "voucher_expiry_date") if self.voucher else ()
        return set(MEMBER_VARIABLES) | set(self.variables) | set(extra)

    def sample_values(self) -> dict[str, Any]:
        values = {**MEMBER_SAMPLE, **self.sample}
        if self.voucher:
            values.setdefault("voucher_code", "HM7Q2X9KRT4B")
            values.setdefault("voucher_expiry_date", "31/12/2026")
        return values


def message_kinds(hub: Hub) -> dict[str, MessageKind]:
    """Return every registered kind by name; two plugins may not register one name."""
    state = hub.app.extensions.setdefault("messaging", {})
    if "kinds" not in state:
        kinds: dict[str, MessageKind] = {}
        for result in hub.pm.hook.register_message_kinds(hub=hub):
            for kind in result or []:
                if kind.name in kinds:
                    raise ValueError(f"two plugins register the message kind {kind.name!r}")
                if kind.category not in CATEGORIES:
                    raise ValueError(f"message kind {kind.name!r}: category is one of {CATEGORIES}")
                kinds[kind.name] = kind
        state["kinds"] = kinds
    return state["kinds"]


def automatic_kinds(hub: Hub) -> dict[str, MessageKind]:
    """The kinds a merchant switches on and words in the messaging settings, by name."""
    return {name: kind for name, kind in message_kinds(hub).items() if kind.automatic}
