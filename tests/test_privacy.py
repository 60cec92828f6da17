"""Privacy records from any store connector: erase, export, forget the store."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import select

from hub import Customer
from hub import CustomerDataRequest
from hub import CustomerRedaction
from hub import ShopRedaction
from hub import apply_record
from hub.models import AuditRecord
from hub.models import Connection
from hub.models import EventRecord
from hub.models import Member


def make_connection(api, hub):
    created = api.post("/api/v1/connections", json={"connector": "custom"}).json
    return created["id"]


def apply(hub, connection_id, record):
    with hub.db.transaction() as session:
        connection = session.get(Connection, connection_id)
        return apply_record(hub, session, connection, record)


def test_a_redaction_erases_the_member_once_and_is_audited_each_time(api, hub, member):
    connection_id = make_connection(api, hub)
    request = CustomerRedaction(customer=Customer(phone=member["phone"]), request_id="r-1")

    apply(hub, connection_id, request)
    apply(hub, connection_id, request)  # the platform retried

    with hub.db.session() as session:
        erased = session.get(Member, member["id"])
        assert (erased.status, erased.phone, erased.name) == ("erased", None, "")
        audits = session.scalars(
            select(AuditRecord).where(AuditRecord.action == "privacy.customer_redacted")
        ).all()
        assert [a.data["member_found"] for a in audits] == [True, False]
        events = session.scalars(
            select(EventRecord).where(EventRecord.type == "member.deleted")
        ).all()
        assert len(events) == 1


def test_a_data_request_for_an_unknown_customer_says_so(api, hub):
    connection_id = make_connection(api, hub)

    apply(hub, connection_id, CustomerDataRequest(customer=Customer(email="nobody@example.vn")))

    with hub.db.session() as session:
        [event] = session.scalars(
            select(EventRecord).where(EventRecord.type == "member.data_requested")
        ).all()
    assert event.data["member_id"] is None and event.data["export"] is None


def test_a_shop_redaction_disables_the_connection_and_drops_its_secrets(api, hub):
    created = api.post(
        "/api/v1/connections", json={"connector": "custom", "secrets": {"webhook_secret": "x"}}
    ).json

    counts = apply(hub, created["id"], ShopRedaction(shop="example"))

    assert counts == {"identities_removed": 0, "orders_wiped": 0}
    with hub.db.session() as session:
        connection = session.get(Connection, created["id"])
        assert connection.status == "disabled"
        assert hub.secrets.decrypt(connection.secrets_encrypted) == {}


def test_the_privacy_handlers_are_in_place_in_a_process_that_imports_only_hub_records():
    """``hub.records`` imports no handler module; loading the hub registers them."""
    probe = "import hub.records as records; print(sorted(t.__name__ for t in records._HANDLERS))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    for name in ("CustomerRedaction", "CustomerDataRequest", "ShopRedaction"):
        assert name in done.stdout
