"""The ``smtp`` gateway: e-mail through the merchant's SMTP server, with smtplib.

Connection settings and secret: see ``settings``. Each e-mail is a MIME
``multipart/alternative`` with the text part first and the HTML part
second, the RFC 8058 headers the hub gives it (``List-Unsubscribe``,
``List-Unsubscribe-Post``) and a ``Message-ID`` that names the hub's
message, so a bounce that quotes it can be traced.

Failures as SMTP classifies them (RFC 5321): a 4xx reply, a dropped
connection or a timeout is transient; a 5xx reply (a refused recipient, a
refused login) is permanent. SMTP reports no delivery, so a message stays
``sent``; bounces arrive as mail to the sender, which the hub does not read.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr
from email.utils import make_msgid

from connectors.smtp.settings import SmtpSecretsSchema
from connectors.smtp.settings import SmtpSettingsSchema
from hub import BlockedURL
from hub import GatewayConnector
from hub import PermanentError
from hub import RetryLater
from hub import SendResult
from hub import check_outside_host
from hub import connection_secrets
from hub import hookimpl

NAME = "smtp"
#: RFC 5322's line limit, so the long List-Unsubscribe URL stays on its header's line.
POLICY = email.policy.SMTP.clone(max_line_length=998)
DEFAULT_PORT = 587
#: Seconds for connecting and for each SMTP command.
TIMEOUT = 20


def build_email(sender: str, message, *, reply_to: str | None = None) -> EmailMessage:
    """The MIME message for one outgoing e-mail: text part, HTML part, list headers."""
    email = EmailMessage(policy=POLICY)
    email["Subject"] = message.subject or ""
    email["From"] = sender
    email["To"] = message.to
    if reply_to:
        email["Reply-To"] = reply_to
    domain = sender.rpartition("@")[2].rstrip(">") or None
    email["Message-ID"] = make_msgid(idstring=f"hub-{message.reference}", domain=domain)
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


class SmtpGateway(GatewayConnector):
    """E-mail through any SMTP server: text and HTML parts, one-click unsubscribe headers."""

    name = NAME
    title = "SMTP"
    description = "E-mail through your own SMTP server (or a provider's SMTP relay)."
    settings_schema = SmtpSettingsSchema
    secrets_schema = SmtpSecretsSchema
    channels = ("email",)
    receipts = False

    def send(self, hub, connection, message):
        settings = self.required_settings(connection, "host", "from_email")
        host, sender_email = settings["host"], settings["from_email"]
        security = settings.get("security") or "starttls"
        port = int(settings.get("port") or (465 if security == "ssl" else DEFAULT_PORT))
        username = settings.get("username")
        password = connection_secrets(hub, connection).get("password")
        if username and security == "none":
            raise PermanentError(
                f"connection {connection.id} (SMTP) would send its password unencrypted; "
                "set security to starttls or ssl"
            )
        try:
            check_outside_host(hub, host, port)
        except BlockedURL as exc:
            raise PermanentError(f"connection {connection.id} (SMTP): {exc}") from None
        sender = formataddr((settings.get("from_name") or "", sender_email))
        email = build_email(sender, message, reply_to=settings.get("reply_to"))
        context = ssl.create_default_context(cafile=hub.plugin_config(NAME).get("cafile"))
        try:
            with _connect(host, port, security, context) as smtp:
                if username:
                    smtp.login(username, password or "")
                smtp.send_message(email, from_addr=sender_email, to_addrs=[message.to])
        except smtplib.SMTPResponseException as exc:
            raise _classified(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentError(f"the SMTP server {host}:{port}: {exc}; check security") from None
        except ssl.SSLError as exc:
            raise PermanentError(
                f"TLS with the SMTP server {host}:{port} failed: {exc}; check host and security"
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _classified(code, reply) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise RetryLater(f"the SMTP server {host}:{port} could not be reached: {exc}") from None
        return SendResult(gateway_message_id=email["Message-ID"], status="sent")


def _connect(host: str, port: int, security: str, context: ssl.SSLContext) -> smtplib.SMTP:
    if security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
    smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
    if security == "starttls":
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def _classified(code: int, reply: bytes | str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    reason = f"the SMTP server answered {code} {text}"
    return RetryLater(reason) if 400 <= code < 500 else PermanentError(reason)


@hookimpl
def register_connectors(hub):
    return [SmtpGateway()]
