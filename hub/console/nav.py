"""The console's left navigation: the core's pages and those plugins add.

A page is a view function, a template extending ``console/base.html``, a
``NavEntry`` here (or a ``ConsolePage`` from a plugin's
``register_console_pages``) and its strings in the catalogues.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_babel import lazy_gettext as _l

from hub.console.connector_labels import CONNECTOR_LABELS
from hub.merchants.staff import role_rank
from hub.registry import ConsolePage


@dataclass(frozen=True)
class NavEntry:
    key: str
    endpoint: str
    title: object  # a lazy string, or a dict by locale for a plugin's page
    min_role: str

    def label(self, locale: str) -> str:
        if isinstance(self.title, dict):
            return self.title.get(locale) or next(iter(self.title.values()), self.key)
        return str(self.title)

    def allows(self, role: str) -> bool:
        return role_rank(role) >= role_rank(self.min_role)


CORE_PAGES = (
    NavEntry("overview", "console.overview", _l("Overview"), "manager"),
    NavEntry("members", "console.members", _l("Members"), "manager"),
    NavEntry("import", "console.import_page", _l("Import"), "manager"),
    NavEntry("program", "console.program", _l("Program"), "manager"),
    NavEntry("tiers", "console.tiers", _l("Tiers"), "manager"),
    NavEntry("rewards", "console.rewards", _l("Rewards"), "manager"),
    NavEntry("referrals", "console.referrals", _l("Referrals"), "manager"),
    NavEntry("messages", "console.messages", _l("Messages"), "manager"),
    NavEntry("segments", "console.segments_page", _l("Segments"), "manager"),
    NavEntry("campaigns", "console.campaigns_page", _l("Campaigns"), "manager"),
    NavEntry("reports", "console.reports", _l("Reports"), "manager"),
    NavEntry("connections", "console.connections", _l("Connections"), "manager"),
    NavEntry("widget", "console.widget", _l("Widget"), "manager"),
    NavEntry("counter", "console.counter", _l("Counter"), "cashier"),
    NavEntry("staff", "console.staff", _l("Staff"), "owner"),
    NavEntry("api_keys", "console.api_keys", _l("API keys"), "owner"),
    NavEntry("events", "console.events", _l("Points for actions"), "owner"),
    NavEntry("settings", "console.settings", _l("Shop settings"), "owner"),
    NavEntry("audit", "console.audit", _l("Audit log"), "owner"),
)


def init_nav(app: Flask, plugin_pages: list[list[ConsolePage] | None]) -> None:
    """Keep the navigation on the app: the core's entries, then each plugin's."""
    entries = list(CORE_PAGES)
    for pages in plugin_pages:
        for page in pages or []:
            entries.append(NavEntry(page.key, page.endpoint, dict(page.title), page.min_role))
    app.extensions["console_nav"] = tuple(entries)


def nav_for(app: Flask, role: str) -> list[NavEntry]:
    """The entries a user of ``role`` sees, in order."""
    return [entry for entry in app.extensions["console_nav"] if entry.allows(role)]


#: Words the data holds (roles, statuses, channels, ledger kinds), as people read them.
LABELS = {
    # How a consent was recorded (``MemberConsent.source``)
    "consent_api": _l("through the API"),
    "consent_console": _l("in the console"),
    "consent_connection": _l("from the store"),
    "consent_reply_stop": _l("replied STOP"),
    "consent_unsubscribe_link": _l("unsubscribe link"),
    # Zalo ZNS template tags (the purpose Zalo approved the template for)
    "zns_transaction": _l("Transaction (tag 1)"),
    "zns_customer_care": _l("Customer care (tag 2)"),
    "zns_promotion": _l("Promotion (tag 3)"),
    "owner": _l("Owner"),
    "manager": _l("Manager"),
    "cashier": _l("Cashier"),
    "active": _l("Active"),
    "disabled": _l("Disabled"),
    "paused": _l("Paused"),
    "issued": _l("Issued"),
    "used": _l("Used"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Expired"),
    "sms": _l("SMS"),
    "zalo": _l("Zalo"),
    "email": _l("Email"),
    "earn": _l("Earned"),
    "bonus": _l("Bonus"),
    "adjust": _l("Adjusted by hand"),
    "import": _l("Imported"),
    "reverse": _l("Reversed"),
    "redeem": _l("Redeemed"),
    "expire": _l("Expired"),
    "basis_points": _l("Points earned"),
    "basis_spend": _l("Amount spent"),
    "window_lifetime": _l("all time"),
    "window_calendar_year": _l("this calendar year"),
    "window_rolling_12m": _l("the last 12 months"),
    "amount_off": _l("Amount off"),
    "percent_off": _l("Percent off"),
    "free_shipping": _l("Free shipping"),
    "free_product": _l("Free product"),
    "store_credit": _l("Store credit"),
    "msg_queued": _l("Queued"),
    "msg_held": _l("Held (quiet hours or caps)"),
    "msg_sending": _l("Sending"),
    "msg_sent": _l("Sent"),
    "msg_delivered": _l("Delivered"),
    "msg_failed": _l("Failed"),
    "msg_skipped": _l("Skipped"),
    "campaign_draft": _l("Draft"),
    "campaign_scheduled": _l("Scheduled"),
    "campaign_sending": _l("Sending"),
    "campaign_paused": _l("Paused"),
    "campaign_done": _l("Done"),
    "campaign_cancelled": _l("Cancelled"),
    # The automatic messages the built-in plugins offer.
    "Happy birthday": _l("Happy birthday"),
    "Thank you after a purchase": _l("Thank you after a purchase"),
    "Points earned": _l("Points earned"),
    "Points about to expire": _l("Points about to expire"),
    "Tier up": _l("Tier up"),
    "Near the next tier": _l("Near the next tier"),
    "Voucher issued": _l("Voucher issued"),
    "Win back": _l("Win back"),
    "kind_store": _l("online store"),
    "kind_pos": _l("counter"),
    "kind_messaging": _l("messages"),
    "kind_custom": _l("your own system"),
    "install_shop": _l("Shopify store domain (name.myshopify.com)"),
    "position_right": _l("Bottom right"),
    "position_left": _l("Bottom left"),
    "widget_locale_vi": _l("Vietnamese"),
    "widget_locale_en": _l("English"),
    "widget_locale_auto": _l("The page's language"),
    "delivery_pending": _l("Waiting to be sent"),
    "delivery_succeeded": _l("Delivered"),
    "delivery_failed": _l("Failed"),
    "delivery_abandoned": _l("Abandoned (endpoint switched off)"),
    "audit_member": _l("Members"),
    "audit_points": _l("Points"),
    "audit_connection": _l("Connections"),
    "audit_pos_key": _l("Till keys"),
    "audit_reward": _l("Rewards"),
    "audit_tier": _l("Tiers"),
    "audit_program": _l("Program"),
    "audit_staff": _l("Staff"),
    "audit_api_key": _l("API keys"),
    "audit_merchant": _l("Shop settings"),
    "audit_messaging": _l("Messages"),
    "audit_segment": _l("Segments"),
    "audit_privacy": _l("Privacy requests"),
    "audit_pos_redemption": _l("Paying with points at the counter"),
    "audit_kiotviet": _l("KiotViet"),
    "audit_tier_settings": _l("Tier settings"),
    "audit_webhook_endpoint": _l("Outbound webhooks"),
    "floor": _l("Down to a whole point"),
    "half_up": _l("To the nearest point"),
    "expiry_never": _l("Never"),
    "expiry_days": _l("After N days"),
    "expiry_end_of_month": _l("At the end of the month, N months on"),
    "expiry_end_of_year": _l("At the end of the year, N months on"),
    "reason_program_disabled": _l("program off"),
    "reason_before_start": _l("before the start date"),
    "reason_currency": _l("other currency"),
    "reason_below_minimum": _l("below the smallest order"),
    "reason_cancelled": _l("cancelled"),
    "period_day": _l("day"),
    "period_week": _l("week"),
    "period_month": _l("month"),
    "period_year": _l("year"),
    "referral_joined": _l("Friend joined, no paid order yet"),
    "referral_pending": _l("Waiting out the refund window"),
    "referral_rewarded": _l("Rewarded"),
    "referral_rejected": _l("Refused"),
    "referral_reversed": _l("Taken back (refunded)"),
    "referral_reason_self": _l("referred themselves"),
    "referral_reason_not_new": _l("already a customer"),
    "referral_reason_refunded": _l("order refunded or cancelled"),
    "referral_reason_monthly_limit": _l("over the monthly limit"),
    # The earning rules the built-in plugins offer (titles and descriptions).
    "First order bonus": _l("First order bonus"),
    "Fixed points on a member's first paid order": _l(
        "Fixed points on a member's first paid order"
    ),
    "Product bonus": _l("Product bonus"),
    "Extra points (per unit, or a multiplier) for chosen products": _l(
        "Extra points (per unit, or a multiplier) for chosen products"
    ),
    "Tier multiplier": _l("Tier multiplier"),
    "Members earn their tier's earn multiplier times the base points": _l(
        "Members earn their tier's earn multiplier times the base points"
    ),
    "Birthday month": _l("Birthday month"),
    "A multiplier and/or a gift on orders in the member's birthday month": _l(
        "A multiplier and/or a gift on orders in the member's birthday month"
    ),
    "Special days": _l("Special days"),
    "A points multiplier on chosen dates or weekdays": _l(
        "A points multiplier on chosen dates or weekdays"
    ),
    "Sign-up bonus": _l("Sign-up bonus"),
    "Fixed points once, when a member is created": _l(
        "Fixed points once, when a member is created"
    ),
}


LABELS.update(CONNECTOR_LABELS)


def label(value: str) -> str:
    """The word for a stored value in the user's language; an unknown value as it is."""
    return str(LABELS.get(value, value))


def labelled(value: str) -> bool:
    """Whether ``label`` knows ``value`` (else it shows the words as they were written)."""
    return value in LABELS
