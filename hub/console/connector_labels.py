"""The built-in connectors' titles and descriptions, as msgids of the console's catalogue.

A connector describes itself in English (``title``, ``description``); the
console shows those words through ``label``, which finds them here and
translates them. A connector from another package whose words are not here
is shown as it wrote them, marked as English. A test fails when a built-in
connector's words change without this list.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CONNECTOR_LABELS = {
    "Custom integration (REST API)": _l("Custom integration (REST API)"),
    "Send orders and customers with POST /api/v1/orders.": _l(
        "Send orders and customers with POST /api/v1/orders."
    ),
    "Brevo": _l("Brevo"),
    "E-mail through Brevo (Sendinblue); bounces, complaints, unsubscribes.": _l(
        "E-mail through Brevo (Sendinblue); bounces, complaints, unsubscribes."
    ),
    "Console (development)": _l("Console (development)"),
    "Writes each message to the log (and to a folder the operator chose).": _l(
        "Writes each message to the log (and to a folder the operator chose)."
    ),
    "Custom storefront (signed webhooks)": _l("Custom storefront (signed webhooks)"),
    "Your own site sends order, refund and customer events, signed per Standard Webhooks, "
    "to /webhooks/custom/<connection id>.": _l(
        "Your own site sends order, refund and customer events, signed per Standard Webhooks, "
        "to /webhooks/custom/<connection id>."
    ),
    "eSMS.vn": _l("eSMS.vn"),
    "SMS brandname and Zalo ZNS through eSMS.vn; receipts by callback.": _l(
        "SMS brandname and Zalo ZNS through eSMS.vn; receipts by callback."
    ),
    "Haravan": _l("Haravan"),
    "Customers and orders flow in by webhooks, rewards go out as discounts, and the widget "
    "appears on the storefront.": _l(
        "Customers and orders flow in by webhooks, rewards go out as discounts, and the widget "
        "appears on the storefront."
    ),
    "KiotViet": _l("KiotViet"),
    "Invoices, orders and customers from a KiotViet shop, by webhook. Needs the shop's retailer "
    "name and its Public API client id and secret.": _l(
        "Invoices, orders and customers from a KiotViet shop, by webhook. Needs the shop's "
        "retailer name and its Public API client id and secret."
    ),
    "Point of sale (counter API)": _l("Point of sale (counter API)"),
    "Any till calls /pos/v1 with a POS key: look members up, enrol them, record sales (also a "
    "backlog sent late), redeem points and burn vouchers. The cashier page at /pos/cashier does "
    "the same in a browser.": _l(
        "Any till calls /pos/v1 with a POS key: look members up, enrol them, record sales (also "
        "a backlog sent late), redeem points and burn vouchers. The cashier page at /pos/cashier "
        "does the same in a browser."
    ),
    "Shopify": _l("Shopify"),
    "Customers and orders flow in by webhooks, rewards go out as discount codes, and the widget "
    "appears on the storefront.": _l(
        "Customers and orders flow in by webhooks, rewards go out as discount codes, and the "
        "widget appears on the storefront."
    ),
    "SMTP": _l("SMTP"),
    "E-mail through your own SMTP server (or a provider's SMTP relay).": _l(
        "E-mail through your own SMTP server (or a provider's SMTP relay)."
    ),
    "SpeedSMS": _l("SpeedSMS"),
    "SMS through SpeedSMS; delivery reports and replies by webhook.": _l(
        "SMS through SpeedSMS; delivery reports and replies by webhook."
    ),
    "Twilio": _l("Twilio"),
    "SMS worldwide through Twilio; signed status callbacks and STOP replies.": _l(
        "SMS worldwide through Twilio; signed status callbacks and STOP replies."
    ),
    "Zalo ZNS": _l("Zalo ZNS"),
    "Zalo template notifications (ZNS) to members' phone numbers.": _l(
        "Zalo template notifications (ZNS) to members' phone numbers."
    ),
}
