"""E-mail: the subject, the text and HTML parts, and the one-click unsubscribe link.

Every e-mail carries an unsubscribe link in its body and in the headers of
RFC 8058 (``List-Unsubscribe`` with one HTTPS URL, ``List-Unsubscribe-Post:
List-Unsubscribe=One-Click``), which Gmail and Yahoo require of bulk senders.
The link names the message and carries an HMAC of its id with the hub's
secret key, so it cannot be guessed or moved to another message; opening
it shows a page, and only a POST (the mail client's one click, or the
page's button) records the opt-out (see ``unsubscribe``). An advertising
e-mail's subject starts with ``[QC]`` (Decree 91/2020/ND-CP).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.messaging import advertising
from hub.messaging.callbacks import public_base_url
from hub.messaging.templates import render

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.messaging.models import Message
    from hub.messaging.settings import KindSettings
    from hub.messaging.settings import Settings

#: The footer line of the text part, per locale; ``{url}`` is the unsubscribe link.
FOOTER = {
    "vi": "Không muốn nhận thư này nữa? Hủy đăng ký: {url}",
    "en": "Don't want these e-mails? Unsubscribe: {url}",
}
#: The HTML footer: a question, then the link.
QUESTION = {"vi": "Không muốn nhận thư này nữa?", "en": "Don't want these e-mails?"}
LINK_TEXT = {"vi": "Hủy đăng ký nhận thư", "en": "Unsubscribe"}
SUBJECT_LENGTH = 78


@dataclass(frozen=True)
class EmailContent:
    """What an e-mail gateway sends: subject, both parts and the list headers."""

    subject: str
    text: str
    html: str
    unsubscribe_url: str
    headers: dict[str, str]


def unsubscribe_token(hub: Hub, message_id: int) -> str:
    """``<message id>.<HMAC>``: names one message and cannot be forged without the key."""
    key = hub.config["HUB_SECRET_KEY"].encode()
    digest = hmac.new(key, f"unsubscribe:{message_id}".encode(), hashlib.sha256).hexdigest()
    return f"{message_id}.{digest[:32]}"


def message_of_token(hub: Hub, token: str) -> int | None:
    """The message id a token names, or None when the token is not the hub's."""
    head, _, _ = token.partition(".")
    if not head.isdigit() or len(head) > 19:
        return None
    if not hmac.compare_digest(unsubscribe_token(hub, int(head)), token):
        return None
    return int(head)


def unsubscribe_url(hub: Hub, message_id: int) -> str | None:
    """The message's unsubscribe link, or None when the hub has no public URL."""
    base = public_base_url(hub)
    return f"{base}/unsubscribe/{unsubscribe_token(hub, message_id)}" if base else None


def default_subject(shop: str, body: str) -> str:
    """The shop's name and the start of the text's first line."""
    first = next((line.strip() for line in body.splitlines() if line.strip()), "")
    subject = f"{shop}: {first}" if shop else first
    if len(subject) > SUBJECT_LENGTH:
        subject = subject[: SUBJECT_LENGTH - 1].rstrip() + "…"
    return subject


def compose_email(
    hub: Hub,
    message: Message,
    settings: Settings,
    kind_settings: KindSettings,
    address: str,
) -> EmailContent:
    """The e-mail for ``message``: its subject, text and HTML parts and list headers."""
    locale = message.locale if message.locale in FOOTER else "vi"
    template = kind_settings.email_subjects.get(locale)
    if template:
        subject = render(template, message.variables or {})
    else:
        subject = default_subject(settings.shop, message.body)
    if kind_settings.kind.marketing:
        subject = advertising.advertising_subject(subject)
    url = unsubscribe_url(hub, message.id) or ""
    text = f"{message.body.strip()}\n\n-- \n{FOOTER[locale].format(url=url)}\n"
    paragraphs = [p.strip().splitlines() for p in message.body.strip().split("\n\n") if p.strip()]
    html = hub.app.jinja_env.get_template("messaging/email.html").render(
        subject=subject,
        paragraphs=paragraphs,
        shop=settings.shop,
        unsubscribe_url=url,
        link_text=LINK_TEXT[locale],
        footer=QUESTION[locale],
        locale=locale,
    )
    headers = {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return EmailContent(subject, text, html, url, headers)
