"""An SMTP server on loopback (aiosmtpd), keeping every message it accepts.

``refuse(code, text)`` makes the next RCPT TO answer with that SMTP reply
(``550`` no such mailbox, ``451`` try again later). With a certificate and
key it offers STARTTLS, as a real submission server on port 587 does.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else ""


class Handler:
    def __init__(self, server: SmtpSimulator) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.server.refusals:
            return self.server.refusals.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSimulator:
    host = "127.0.0.1"

    def __init__(self, *, tls_context=None) -> None:
        self.received: list[Received] = []
        self.refusals: deque[str] = deque()
        self.closed = False
        options = {"tls_context": tls_context, "require_starttls": True} if tls_context else {}
        self.port = _free_port()
        self.controller = Controller(
            Handler(self), hostname=self.host, port=self.port, ready_timeout=30, **options
        )
        self.controller.start()

    def refuse(self, reply: str) -> None:
        """The next recipient gets this reply (``550 5.1.1 no such user``)."""
        self.refusals.append(reply)

    def close(self) -> None:
        """Stop listening; closing twice is fine (a test may stop it early)."""
        if not self.closed:
            self.closed = True
            self.controller.stop()
