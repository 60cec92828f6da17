"""Thirty clients creating the same thing at once get the promised answers, never a 500.

The hub runs under a real threaded WSGI server on 127.0.0.1; each client
calls it from its own thread, all released together by a barrier. The race
is real on PostgreSQL (HUB_TEST_DATABASE_URL), where the transactions run
side by side and meet at the unique constraint; on SQLite, which runs one
writer at a time, the same calls must give the same answers.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import requests
from browser_support import ServerThread
from sqlalchemy import func
from sqlalchemy import select

from connectors.pos.testing import open_counter
from hub.models import Member
from hub.models import MemberIdentity
from hub.models import Tier

CLIENTS = 30


@pytest.fixture
def live(app):
    server = ServerThread(app)
    yield server
    server.stop()


def race(send, count=CLIENTS):
    """Call ``send(index)`` from ``count`` threads released at once; return the responses."""
    start = threading.Barrier(count)
    answers: list = [None] * count

    def run(index):
        with requests.Session() as http:
            start.wait()
            answers[index] = send(http, index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def statuses(answers):
    return Counter(answer.status_code for answer in answers)


def rows(hub, *conditions, model):
    with hub.db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_thirty_creates_of_one_phone_make_one_member_and_29_conflicts(live, merchant, hub):
    def send(http, index):
        return http.post(
            f"{live.url}/api/v1/members",
            json={"phone": "0912345678", "name": f"Khách {index}"},
            headers=merchant.headers,
            timeout=60,
        )

    answers = race(send)
    assert statuses(answers) == {201: 1, 409: CLIENTS - 1}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] == "duplicate_phone"
            assert "phone" in answer.json()["error"]["details"]
    assert rows(hub, Member.phone == "+84912345678", model=Member) == 1


def test_thirty_counter_enrolments_of_one_phone_answer_one_created_and_29_existing(
    live, client, merchant, hub
):
    till = open_counter(client, merchant.headers).over_http(live.url)

    def send(http, index):
        return http.post(
            f"{live.url}/pos/v1/members",
            json={"phone": "0912345678", "name": "Lan"},
            headers=till.headers,
            timeout=60,
        )

    answers = race(send)
    assert statuses(answers) == {201: 1, 200: CLIENTS - 1}
    codes = {answer.json()["member"]["code"] for answer in answers}
    assert len(codes) == 1
    assert [a.json()["created"] for a in answers].count(True) == 1
    assert rows(hub, Member.phone == "+84912345678", model=Member) == 1


def test_thirty_members_linking_one_customer_id_leave_one_link_and_29_conflicts(
    live, api, merchant, hub
):
    connection = api.post("/api/v1/connections", json={"connector": "custom", "name": "Web"}).json
    members = [
        api.post("/api/v1/members", json={"name": f"Khách {i}"}).json["id"] for i in range(CLIENTS)
    ]

    def send(http, index):
        return http.post(
            f"{live.url}/api/v1/members/{members[index]}/identities",
            json={"connection_id": connection["id"], "external_id": "cust-1"},
            headers=merchant.headers,
            timeout=60,
        )

    answers = race(send)
    assert statuses(answers) == {201: 1, 409: CLIENTS - 1}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] == "identity_taken"
    assert rows(hub, MemberIdentity.external_id == "cust-1", model=MemberIdentity) == 1


def test_thirty_links_of_one_member_to_one_customer_id_all_answer_the_link(
    live, api, merchant, member, hub
):
    connection = api.post("/api/v1/connections", json={"connector": "custom", "name": "Web"}).json

    def send(http, index):
        return http.post(
            f"{live.url}/api/v1/members/{member['id']}/identities",
            json={"connection_id": connection["id"], "external_id": "cust-1"},
            headers=merchant.headers,
            timeout=60,
        )

    answers = race(send)
    assert statuses(answers) == {201: CLIENTS}
    assert rows(hub, MemberIdentity.external_id == "cust-1", model=MemberIdentity) == 1


def test_thirty_creates_of_one_tier_name_make_one_tier_and_29_conflicts(live, merchant, hub):
    def send(http, index):
        return http.post(
            f"{live.url}/api/v1/tiers",
            json={"name": "Vàng", "threshold": "5000000", "position": index},
            headers=merchant.headers,
            timeout=60,
        )

    answers = race(send)
    assert statuses(answers) == {201: 1, 409: CLIENTS - 1}
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] == "duplicate_tier_name"
    assert rows(hub, Tier.name == "Vàng", model=Tier) == 1


def integrity_error(hub, make_rows):
    from sqlalchemy.exc import IntegrityError

    with hub.db.session() as session:
        try:
            with session.begin():
                make_rows(session)
        except IntegrityError as error:
            return error
    raise AssertionError("the rows went in")


def test_a_duplicate_phone_at_the_constraint_reads_as_the_checks_conflict(hub, merchant):
    from hub.api.conflicts import as_conflict

    def two_members(session):
        for code in ("A1", "A2"):
            session.add(Member(merchant_id=merchant.id, code=code, phone="+84912345678"))
            session.flush()

    conflict = as_conflict(integrity_error(hub, two_members))
    assert (conflict.status, conflict.code, conflict.details) == (
        409,
        "duplicate_phone",
        {"phone": ["already used"]},
    )


def test_an_integrity_error_that_is_no_duplicate_is_not_read_as_a_conflict(hub, merchant):
    from hub.api.conflicts import as_conflict

    def member_without_code(session):
        session.add(Member(merchant_id=merchant.id, code=None, phone="+84912345678"))
        session.flush()

    assert as_conflict(integrity_error(hub, member_without_code)) is None
