"""E-mail through a real local SMTP server: both parts, the list headers, one-click unsubscribe."""

from __future__ import annotations

import ssl
import subprocess
from datetime import UTC
from datetime import datetime

import pytest
from simulators import fixtures
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect_smtp
from simulators.fixtures import message
from simulators.smtp import SmtpSimulator

from hub import queue_message

smtp = fixtures.smtp

PUBLIC = "https://hub.hoamai.vn"
NOON = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)


@pytest.fixture
def hub_config():
    return {"HUB_PUBLIC_URL": PUBLIC}


def _email_only(connection_id, *kinds, **extra):
    return {
        "channel_order": ["email"],
        "connections": {"email": connection_id},
        "caps": {"per_day": None, "per_week": None},
        "kinds": {kind: {"enabled": True} for kind in kinds},
        **extra,
    }


def _queue(hub, merchant, member, kind="points_earned", key="e1"):
    return queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind=kind,
        key=key,
        variables={"points_earned": 45, "next_tier": "Vàng", "needed": 200},
        now=NOON,
    )


def _member(api, **extra):
    return add_member(api, email="Lan.Nguyen@Example.vn", **extra)


def _unsubscribe_path(received) -> str:
    header = received.message["List-Unsubscribe"]
    assert header.startswith(f"<{PUBLIC}/unsubscribe/") and header.endswith(">")
    return header[len(PUBLIC) + 1 : -1]


def test_an_email_goes_out_with_a_text_and_an_html_part_and_the_one_click_headers(
    api, hub, merchant, smtp
):
    # Given a merchant sending by e-mail through their SMTP server
    configure(api, **_email_only(connect_smtp(api, smtp), "points_earned"))
    member = _member(api)
    # When points earned are announced
    sent = message(api, _queue(hub, merchant, member))
    # Then the server got one e-mail to the member, from the merchant
    assert sent["status"] == "sent" and sent["channel"] == "email"
    assert sent["recipient"] == "lan.nguyen@example.vn"
    (received,) = smtp.received
    assert received.rcpt_tos == ["lan.nguyen@example.vn"]
    assert received.mail_from == "tin@hoamai.vn"
    assert received.message["From"] == "Cửa hàng Hoa Mai <tin@hoamai.vn>"
    assert received.message["Subject"].startswith("Cửa hàng Hoa Mai: ")
    assert received.message["Message-ID"] == sent["gateway_message_id"]
    # With both parts saying the same, and the unsubscribe link in each
    text, html = received.part("plain"), received.part("html")
    assert "45" in text and "45" in html
    path = _unsubscribe_path(received)
    assert f"{PUBLIC}{path}" in text and f'href="{PUBLIC}{path}"' in html
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # A transactional e-mail is no advertisement
    assert not received.message["Subject"].startswith("[QC]")


def test_an_advertising_email_is_marked_in_its_subject(api, hub, merchant, smtp):
    configure(api, **_email_only(connect_smtp(api, smtp), "tier_near"))
    member = _member(api, consents={"email": True})
    assert message(api, _queue(hub, merchant, member, kind="tier_near"))["status"] == "sent"
    assert smtp.received[0].message["Subject"].startswith("[QC] Cửa hàng Hoa Mai: Lan ơi")


def test_the_merchants_subject_template_is_used(api, hub, merchant, smtp):
    subject = {"vi": "{first_name} ơi, bạn vừa có thêm {points_earned} điểm"}
    kinds = {"points_earned": {"enabled": True, "email_subject": subject}}
    settings = _email_only(connect_smtp(api, smtp))
    configure(api, **{**settings, "kinds": kinds})
    message(api, _queue(hub, merchant, _member(api)))
    assert smtp.received[0].message["Subject"] == "Lan ơi, bạn vừa có thêm 45 điểm"


def test_the_html_part_escapes_what_the_merchant_wrote(api, hub, merchant, smtp):
    template = {"vi": "<script>alert(1)</script> Cảm ơn {name}!"}
    kinds = {"points_earned": {"enabled": True, "templates": template}}
    configure(api, **{**_email_only(connect_smtp(api, smtp)), "kinds": kinds})
    message(api, _queue(hub, merchant, _member(api)))
    html = smtp.received[0].part("html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_opening_the_link_changes_nothing_and_one_click_unsubscribes_at_once(
    app, api, hub, merchant, smtp
):
    configure(api, **_email_only(connect_smtp(api, smtp), "points_earned", "tier_near"))
    member = _member(api, consents={"email": True})
    message(api, _queue(hub, merchant, member))
    path = _unsubscribe_path(smtp.received[0])
    client = app.test_client()
    # When a link scanner opens the link
    page = client.get(path)
    # Then the page asks, and nothing is recorded
    assert page.status_code == 200
    assert "Hủy đăng ký" in page.get_data(as_text=True)
    assert "l*********@example.vn" in page.get_data(as_text=True)
    assert api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"] == []
    # When the mail client posts the one click (no cookie, no token but the link's)
    done = client.post(
        path,
        data={"List-Unsubscribe": "One-Click"},
        content_type="application/x-www-form-urlencoded",
    )
    # Then it answers the page itself, no redirect, and the address is opted out
    assert done.status_code == 200
    assert "Đã hủy đăng ký" in done.get_data(as_text=True)
    opt_outs = api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"]
    assert [(o["channel"], o["source"]) for o in opt_outs] == [("email", "unsubscribe_link")]
    consent = api.get(f"/api/v1/members/{member['id']}").json["consents"]["email"]
    assert consent["granted"] is False and consent["source"] == "unsubscribe_link"
    # And the next e-mail, even a transactional one, is not sent
    skipped = message(api, _queue(hub, merchant, member, key="e2"))
    assert skipped["status"] == "skipped" and "address opted out" in skipped["reason"]
    assert len(smtp.received) == 1


def test_a_forged_or_altered_link_answers_404(app, api, hub, merchant, smtp):
    configure(api, **_email_only(connect_smtp(api, smtp), "points_earned"))
    member = _member(api)
    message(api, _queue(hub, merchant, member))
    path = _unsubscribe_path(smtp.received[0])
    message_id, _, signature = path.rsplit("/", 1)[1].partition(".")
    client = app.test_client()
    other = f"/unsubscribe/{int(message_id) + 1}.{signature}"
    assert client.post(other).status_code == 404
    assert client.post(f"/unsubscribe/{message_id}.{'0' * 32}").status_code == 404
    assert client.get("/unsubscribe/not-a-token").status_code == 404
    assert api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"] == []


def test_an_email_needs_the_hubs_public_url_for_its_unsubscribe_link(api, hub, merchant, smtp):
    hub.config["HUB_PUBLIC_URL"] = None
    configure(api, **_email_only(connect_smtp(api, smtp), "points_earned"))
    skipped = message(api, _queue(hub, merchant, _member(api)))
    assert skipped["status"] == "skipped" and "HUB_PUBLIC_URL" in skipped["reason"]
    assert smtp.received == []


def test_a_member_without_an_email_is_skipped(api, hub, merchant, smtp):
    configure(api, **_email_only(connect_smtp(api, smtp), "points_earned"))
    skipped = message(api, _queue(hub, merchant, add_member(api)))
    assert skipped["status"] == "skipped" and "no e-mail address" in skipped["reason"]


def test_a_recipient_the_server_refuses_for_good_fails_the_message(api, hub, merchant, smtp):
    configure(api, **_email_only(connect_smtp(api, smtp), "points_earned"))
    smtp.refuse("550 5.1.1 No such user here")
    failed = message(api, _queue(hub, merchant, _member(api)))
    assert failed["status"] == "failed"
    assert "550" in failed["reason"] and "No such user" in failed["reason"]


def test_a_recipient_refused_for_now_is_retried(api, hub, merchant, smtp):
    configure(api, **_email_only(connect_smtp(api, smtp), "points_earned"))
    smtp.refuse("451 4.7.1 Greylisted, try again later")
    held = message(api, _queue(hub, merchant, _member(api)))
    assert held["status"] == "held" and "451" in held["reason"]


def test_a_server_that_is_not_listening_is_transient(api, hub, merchant, smtp):
    connection = connect_smtp(api, smtp, port=smtp.port)
    smtp.close()
    configure(api, **_email_only(connection, "points_earned"))
    held = message(api, _queue(hub, merchant, _member(api)))
    assert held["status"] == "held" and "could not be reached" in held["reason"]


def test_an_smtp_host_inside_the_network_is_refused_without_the_operators_leave(
    api, hub, merchant, smtp
):
    configure(api, **_email_only(connect_smtp(api, smtp), "points_earned"))
    hub.config["HUB_ALLOW_PRIVATE_TARGETS"] = False
    failed = message(api, _queue(hub, merchant, _member(api)))
    assert failed["status"] == "failed" and "loopback" in failed["reason"]
    assert smtp.received == []


def test_a_password_is_never_sent_without_tls(api, hub, merchant, smtp):
    connection = connect_smtp(api, smtp, username="tin@hoamai.vn")
    configure(api, **_email_only(connection, "points_earned"))
    failed = message(api, _queue(hub, merchant, _member(api)))
    assert failed["status"] == "failed" and "unencrypted" in failed["reason"]


@pytest.fixture
def tls_files(tmp_path):
    """A self-signed certificate for localhost, made with the system's openssl."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_starttls_is_used_and_the_certificate_checked(api, hub, merchant, tls_files):
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpSimulator(tls_context=context)
    hub.config["HUB_ALLOW_PRIVATE_TARGETS"] = True
    try:
        connection = connect_smtp(api, server, security="starttls")
        configure(api, **_email_only(connection, "points_earned"))
        member = _member(api)
        # Without the operator trusting the certificate, TLS fails for good
        failed = message(api, _queue(hub, merchant, member))
        assert failed["status"] == "failed" and "TLS" in failed["reason"]
        # With the operator's CA file, the e-mail goes over TLS
        hub.config["HUB_PLUGINS_CONFIG"] = {"smtp": {"cafile": str(cert)}}
        assert message(api, _queue(hub, merchant, member, key="e2"))["status"] == "sent"
        assert len(server.received) == 1
    finally:
        server.close()
