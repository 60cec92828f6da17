"""Push a redeemed reward's voucher to the shop as a Haravan discount.

``POST /com/discounts.json`` with the body of docs.haravan.com's discount
example [V-copy]: ``code``, ``discount_type`` (``fixed_amount`` or
``percentage``), ``value``, ``starts_at``, ``ends_at``, ``usage_limit``,
``minimum_order_amount``, ``applies_once``. Its scopes are marked "only used
by the private app" [V-copy], so a partner app may be refused: the refusal
lands in the failed-job registry with Haravan's answer. Free shipping and
product rewards are not pushed. A code the shop already has counts as done.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from connectors.haravan.store import NAME
from connectors.haravan.store import open_store
from hub import Connection
from hub import Event
from hub import Hub
from hub import PermanentError
from hub import utcnow

log = logging.getLogger(__name__)
KINDS = {"amount_off": "fixed_amount", "percent_off": "percentage"}


def push_voucher(hub: Hub, event: Event) -> list[int]:
    """Create the event's voucher in each active Haravan shop of the merchant."""
    voucher = event.data
    if voucher.get("kind") not in KINDS:
        return []
    with hub.db.session() as session:
        ids = list(
            session.scalars(
                select(Connection.id).where(
                    Connection.merchant_id == event.merchant_id,
                    Connection.connector == NAME,
                    Connection.status == "active",
                )
            )
        )
    done = []
    for connection_id in ids:
        store = open_store(hub, connection_id)
        if store is None:
            continue
        try:
            store.api.post("/com/discounts.json", {"discount": discount_body(voucher)})
        except PermanentError as exc:
            if "already" in str(exc).lower() or "exist" in str(exc).lower():
                continue  # created by an earlier run of this job
            raise
        done.append(connection_id)
        log.info("voucher %s created in haravan connection %s", voucher["code"], connection_id)
    return done


def discount_body(voucher: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": voucher["code"],
        "discount_type": KINDS[voucher["kind"]],
        "value": float(Decimal(voucher["value"]))
        if voucher["kind"] == "percent_off"
        else int(Decimal(voucher["value"])),
        "starts_at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ends_at": voucher.get("expires_at"),
        "usage_limit": 1,
        "applies_once": True,
        "minimum_order_amount": int(Decimal(voucher.get("min_order") or 0)),
        "is_promotion": False,
        "set_time_active": True,
        "applies_to_resource": None,
        "applies_to_id": None,
    }
