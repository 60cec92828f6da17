"""Reset links an owner sends a staff user by e-mail or SMS, through the shop's gateways."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from console_support import PASSWORD
from console_support import csrf
from console_support import csrf_of
from console_support import make_staff
from console_support import sign_in
from simulators import fixtures
from simulators.fixtures import configure
from simulators.fixtures import connect_esms
from simulators.fixtures import connect_smtp
from test_console_connections import sign_in_english

from hub.errors import NotFound
from hub.merchants.staff import find_link
from hub.models import AuditRecord
from hub.models import StaffLink

smtp = fixtures.smtp
esms = fixtures.esms

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def owner(client, hub, merchant):
    person = make_staff(hub, merchant.id, "owner")
    sign_in_english(client, person)
    return person


@pytest.fixture
def staffer(hub, merchant):
    return make_staff(hub, merchant.id, "manager", email="lan.nguyen@hoamai.vn", name="Lan")


def send(client, staffer, action: str, phone: str = ""):
    return client.post(
        f"/console/settings/staff/{staffer.id}",
        data={
            "action": action,
            "phone": phone,
            "csrf_token": csrf(client, "/console/settings/staff"),
        },
    )


def link_in(text: str) -> str:
    return re.search(r"https?://[^/\s]+(/console/link/[\w-]+)", text).group(1)


def links_of(hub, user_id: int) -> list[StaffLink]:
    with hub.db.session() as session:
        return list(session.query(StaffLink).filter_by(user_id=user_id, purpose="reset"))


def set_password(app, path: str, password: str = NEW_PASSWORD):
    fresh = app.test_client()
    page = fresh.get(path)
    if page.status_code != 200:
        return page
    token = csrf_of(page.get_data(as_text=True))
    return fresh.post(
        path, data={"password": password, "password_again": password, "csrf_token": token}
    )


def test_an_emailed_reset_link_works_once_and_ends_the_other_sessions(
    app, client, hub, api, owner, staffer, smtp
):
    # Given a shop that sends e-mail through its SMTP server, and the manager signed in elsewhere
    configure(api, connections={"email": connect_smtp(api, smtp)})
    elsewhere = app.test_client()
    assert sign_in(elsewhere, staffer.email).status_code == 302
    assert elsewhere.get("/console/members").status_code == 200
    # When the owner e-mails the manager a reset link
    answer = send(client, staffer, "send_email")
    assert answer.status_code == 200
    assert "Password reset link sent to lan.nguyen@hoamai.vn" in answer.get_data(as_text=True)
    # Then the manager received it, in the shop's language (Vietnamese), and no one else did
    (received,) = smtp.received
    assert received.rcpt_tos == ["lan.nguyen@hoamai.vn"]
    assert "mật khẩu" in received.message["Subject"]
    path = link_in(received.part("plain"))
    # And the link sets a new password and signs in; the other session is over
    assert set_password(app, path).status_code == 302
    assert elsewhere.get("/console/members").status_code == 302
    assert sign_in(app.test_client(), staffer.email, NEW_PASSWORD).status_code == 302
    assert sign_in(app.test_client(), staffer.email, PASSWORD).status_code == 401
    # And it works once only
    again = set_password(app, path, "yet another passphrase")
    assert again.status_code == 404
    # And the audit log says who sent it how, without the link
    with hub.db.session() as session:
        (record,) = session.query(AuditRecord).filter_by(action="staff.reset_link_sent").all()
    assert record.actor == f"staff:{owner.id}" and record.object_id == str(staffer.id)
    assert record.data == {"channel": "email", "gateway": "smtp"}
    assert path.rsplit("/", 1)[1] not in str(record.data)


def test_a_sent_reset_link_expires_after_two_hours(client, hub, api, owner, staffer, smtp):
    configure(api, connections={"email": connect_smtp(api, smtp)})
    send(client, staffer, "send_email")
    token = link_in(smtp.received[0].part("plain")).rsplit("/", 1)[1]
    (link,) = links_of(hub, staffer.id)
    with hub.db.session() as session:
        find_link(session, token, now=link.created_at + timedelta(hours=1, minutes=59))
        with pytest.raises(NotFound):
            find_link(session, token, now=link.created_at + timedelta(hours=2))


def test_a_reset_link_goes_by_sms_to_the_phone_the_owner_gives(
    app, client, hub, api, owner, staffer, esms
):
    configure(api, connections={"sms": connect_esms(api, esms)})
    answer = send(client, staffer, "send_sms", phone="0912 345 678")
    assert answer.status_code == 200
    assert "Password reset link sent to +84912345678" in answer.get_data(as_text=True)
    (sent,) = esms.sent
    assert sent.phone == "0912345678"
    assert "Dat mat khau moi" in sent.content  # SMS without diacritics, in Vietnamese
    assert set_password(app, link_in(sent.content)).status_code == 302


def test_each_sms_link_has_its_own_gateway_reference(client, api, owner, staffer, esms):
    # eSMS answers a RequestId it has seen as already sent: a second link must not reuse it
    configure(api, connections={"sms": connect_esms(api, esms)})
    send(client, staffer, "send_sms", phone="0912345678")
    send(client, staffer, "send_sms", phone="0912345678")
    first, second = esms.sent
    assert first.request_id != second.request_id
    assert link_in(first.content) != link_in(second.content)


def test_without_a_connection_for_the_channel_nothing_is_issued_and_the_owner_is_told(
    client, hub, api, owner, staffer
):
    answer = send(client, staffer, "send_email")
    assert answer.status_code == 422
    assert "choose a connection under Messages" in answer.get_data(as_text=True)
    assert links_of(hub, staffer.id) == []


def test_a_bad_phone_number_is_explained(client, hub, api, owner, staffer, esms):
    configure(api, connections={"sms": connect_esms(api, esms)})
    for phone in ("", "not a phone", "12"):
        answer = send(client, staffer, "send_sms", phone=phone)
        assert answer.status_code == 422, phone
        assert "That is not a phone number" in answer.get_data(as_text=True)
    assert esms.sent == [] and links_of(hub, staffer.id) == []


def test_a_gateway_refusal_is_shown_and_the_link_stays_unused(
    client, hub, api, owner, staffer, smtp
):
    configure(api, connections={"email": connect_smtp(api, smtp)})
    smtp.refuse("550 5.1.1 no such mailbox")
    answer = send(client, staffer, "send_email")
    assert answer.status_code == 502
    page = answer.get_data(as_text=True)
    assert "The gateway did not take the message" in page and "550" in page
    assert smtp.received == []
    assert [link.used_at for link in links_of(hub, staffer.id)] == [None]


def test_another_shops_staff_user_gets_no_link(client, hub, api, owner, other_merchant, smtp):
    configure(api, connections={"email": connect_smtp(api, smtp)})
    stranger = make_staff(hub, other_merchant.id, "manager")
    assert send(client, stranger, "send_email").status_code == 404
    assert smtp.received == [] and links_of(hub, stranger.id) == []


def test_a_manager_cannot_send_reset_links(app, hub, api, merchant, staffer, smtp):
    configure(api, connections={"email": connect_smtp(api, smtp)})
    manager = app.test_client()
    assert sign_in(manager, staffer.email).status_code == 302
    token = csrf(manager)
    answer = manager.post(
        f"/console/settings/staff/{staffer.id}", data={"action": "send_email", "csrf_token": token}
    )
    assert answer.status_code in (403, 404)
    assert smtp.received == []


def test_sending_without_the_csrf_token_is_refused(client, api, owner, staffer, smtp):
    configure(api, connections={"email": connect_smtp(api, smtp)})
    answer = client.post(f"/console/settings/staff/{staffer.id}", data={"action": "send_email"})
    assert answer.status_code in (400, 403)
    assert smtp.received == []


def test_a_disabled_user_gets_no_link(client, hub, api, owner, staffer, smtp):
    configure(api, connections={"email": connect_smtp(api, smtp)})
    token = csrf(client, "/console/settings/staff")
    client.post(
        f"/console/settings/staff/{staffer.id}", data={"action": "disable", "csrf_token": token}
    )
    answer = send(client, staffer, "send_email")
    assert answer.status_code == 409
    assert "This account is disabled" in answer.get_data(as_text=True)
    assert smtp.received == [] and links_of(hub, staffer.id) == []
