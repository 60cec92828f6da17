"""The unsubscribe link of every e-mail: a page to confirm, and RFC 8058's one click.

``GET /unsubscribe/<token>`` shows the address (partly hidden) and a button;
it changes nothing, as mail scanners and link previews open links on their
own. ``POST`` to the same URL opts the address out of e-mail at once and
withdraws the member's e-mail consent: the mail client's one click
(``List-Unsubscribe=One-Click``, no cookie, no CSRF token, as RFC 8058
requires) and the page's button alike. The answer is the page itself, never
a redirect. A token the hub did not make answers 404.

The page speaks the member's language (the message's locale), with its
wording here beside the e-mail's own, as message texts are.
"""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import render_template
from flask import request

from hub.core import current_hub
from hub.messaging.email_text import message_of_token
from hub.messaging.models import Message
from hub.messaging.optouts import is_opted_out
from hub.messaging.optouts import withdraw
from hub.models import Merchant

bp = Blueprint("messaging_unsubscribe", __name__)

TEXTS = {
    "vi": {
        "title": "Hủy đăng ký nhận thư",
        "ask": "Bạn không muốn nhận thư từ {shop} tại địa chỉ {address} nữa?",
        "button": "Hủy đăng ký",
        "done": "Đã hủy đăng ký. {shop} sẽ không gửi thư đến {address} nữa.",
        "gone": "Liên kết này không còn dùng được. Thư đã gửi không còn được lưu.",
    },
    "en": {
        "title": "Unsubscribe",
        "ask": "Stop receiving e-mails from {shop} at {address}?",
        "button": "Unsubscribe",
        "done": "You are unsubscribed. {shop} will send no more e-mails to {address}.",
        "gone": "This link no longer works: the e-mail it came with is no longer kept.",
    },
}


def masked(address: str) -> str:
    """``lan@example.vn`` as ``l**@example.vn``: enough to recognise, not to harvest."""
    name, _, domain = address.partition("@")
    return f"{name[:1]}{'*' * max(2, len(name) - 1)}@{domain}"


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """Show the unsubscribe page (GET), or opt the address out at once (POST)."""
    hub = current_hub()
    message_id = message_of_token(hub, token)
    if message_id is None:
        abort(404)
    with hub.db.transaction() as session:
        message = session.get(Message, message_id)
        if message is None:
            abort(404)
        merchant = session.get(Merchant, message.merchant_id)
        locale = message.locale if message.locale in TEXTS else "vi"
        texts, shop = TEXTS[locale], merchant.name if merchant else ""
        channel, address = message.channel or "email", message.recipient
        if not address:  # erased since: nothing left to opt out
            return _page(texts, locale, "gone", shop, "")
        done = is_opted_out(session, message.merchant_id, channel, address)
        if request.method == "POST" and not done:
            withdraw(session, message.merchant_id, channel, address, source="unsubscribe_link")
            done = True
    return _page(texts, locale, "done" if done else "ask", shop, masked(address))


def _page(texts: dict[str, str], locale: str, state: str, shop: str, address: str):
    return render_template(
        "messaging/unsubscribe.html",
        locale=locale,
        title=texts["title"],
        text=texts[state].format(shop=shop, address=address),
        button=texts["button"] if state == "ask" else None,
        state=state,
    )
