"""Push a redeemed reward's voucher to the shop as a Haravan discount, and withdraw it.

``POST /com/discounts.json`` with the body of docs.haravan.com's discount
example [V-copy]: ``code``, ``discount_type`` (``fixed_amount`` or
``percentage``), ``value``, ``starts_at``, ``ends_at``, ``usage_limit``,
``minimum_order_amount``, ``applies_once``. Its scopes are marked "only used
by the private app" [V-copy], so a partner app may be refused: the refusal
lands in the failed-job registry with Haravan's answer. Free shipping and
product rewards are not pushed. A code the shop already has counts as done.

A cancelled voucher gives the member their points back, so its discount must
stop working at the shop's checkout: ``PUT /com/discounts/{id}/disable.json``
[V-copy], with the id Haravan answered when the discount was created (kept in
``haravan_discounts``). A voucher cancelled while its discount was being
created is disabled by the job that created it.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy import update

from connectors.haravan.models import HaravanDiscount
from connectors.haravan.store import OpenStore
from connectors.haravan.store import open_store
from hub import Connection
from hub import Hub
from hub import PermanentError
from hub import utcnow

log = logging.getLogger(__name__)
KINDS = {"amount_off": "fixed_amount", "percent_off": "percentage"}


def create_discount(hub: Hub, store: OpenStore, voucher: dict[str, Any]) -> None:
    """Create the voucher's discount in one shop and keep its id; one the shop has is done."""
    try:
        answer = store.api.post("/com/discounts.json", {"discount": discount_body(voucher)})
    except PermanentError as exc:
        if "already" in str(exc).lower() or "exist" in str(exc).lower():
            return  # created by an earlier run of this job
        raise
    discount = (answer or {}).get("discount") or {}
    _remember(hub, store.connection.id, voucher["code"], discount)


def withdraw_code(hub: Hub, merchant_id: int, code: str) -> list[int]:
    """Disable the discount ``code`` wherever this connector created it and it is still on.

    Returns the connections whose discount was disabled now. A shop that never
    got the code, or disabled it in an earlier run, needs nothing.
    """
    with hub.db.session() as session:
        pending = session.execute(
            select(HaravanDiscount.connection_id, HaravanDiscount.discount_id)
            .join(Connection, Connection.id == HaravanDiscount.connection_id)
            .where(
                Connection.merchant_id == merchant_id,
                HaravanDiscount.code == code,
                HaravanDiscount.disabled_at.is_(None),
            )
        ).all()
    done = []
    for connection_id, discount_id in pending:
        store = open_store(hub, connection_id)
        if store is None:
            continue  # disconnected: the shop's discounts are out of reach
        try:
            store.api.put(f"/com/discounts/{discount_id}/disable.json")
        except PermanentError as exc:
            if not str(exc).startswith("Haravan answered 404"):
                raise
            # Deleted in the shop's admin: nothing left that a checkout could take.
            log.info("voucher %s: haravan connection %s no longer has it", code, connection_id)
        with hub.db.transaction() as session:
            session.execute(
                update(HaravanDiscount)
                .where(
                    HaravanDiscount.connection_id == connection_id,
                    HaravanDiscount.code == code,
                )
                .values(disabled_at=utcnow())
            )
        done.append(connection_id)
        log.info("voucher %s disabled in haravan connection %s", code, connection_id)
    return done


def _remember(hub: Hub, connection_id: int, code: str, discount: dict[str, Any]) -> None:
    """Keep the id Haravan gave the discount: disabling it later needs the id."""
    if discount.get("id") is None:
        log.warning(
            "haravan connection %s created discount %s without an id in its answer; "
            "it cannot be disabled if the voucher is cancelled",
            connection_id,
            code,
        )
        return
    with hub.db.transaction() as session:
        known = session.scalar(
            select(HaravanDiscount.id).where(
                HaravanDiscount.connection_id == connection_id, HaravanDiscount.code == code
            )
        )
        if known is None:
            session.add(
                HaravanDiscount(
                    connection_id=connection_id, code=code, discount_id=int(discount["id"])
                )
            )


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
