"""The widget's words in Vietnamese and English, read from Babel catalogues.

The loader script carries no words of its own: every string a shopper reads
comes with the panel's data, from ``hub/widget/translations`` (extracted and
compiled by ``scripts/widget-catalogues``, translated like the console's). A
message takes ``{name}`` placeholders the script fills in; a plural message
comes as its forms by CLDR category (``one``, ``other``), which the script
picks with ``Intl.PluralRules``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from babel.support import Translations

TRANSLATIONS = Path(__file__).parent / "translations"
LOCALES = ("vi", "en")


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated when the texts are built."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural message for extraction."""
    return singular, plural


MESSAGES: dict[str, str] = {
    "launcher": N_("Rewards"),
    "title": N_("Loyalty program"),
    "close": N_("Close"),
    "hello": N_("Hello, {name}"),
    "helloNoName": N_("Hello"),
    "guestPitch": N_("Join the {shop} loyalty program to earn points and get rewards."),
    "join": N_("Join now"),
    "signInAsk": N_("Already a member?"),
    "signIn": N_("Sign in"),
    "signInHint": N_("Sign in at the store to see your points."),
    "available": N_("Points to spend"),
    "pending": N_("Pending points"),
    "tier": N_("Your tier"),
    "tiers": N_("Member tiers"),
    "noTier": N_("No tier yet"),
    "tierFrom": N_("from {threshold}"),
    "nextTier": N_("{delta} more to reach {name}"),
    "topTier": N_("You are in the top tier"),
    # Reaching the next tier counts the whole window; keeping this one counts only
    # the review period that ends on {date}: the two amounts differ, and say why.
    "retain": N_(
        "Tier review on {date}: to stay {name}, reach {threshold} in this review period "
        "({delta} to go)"
    ),
    "expiring": N_("Points expiring soon"),
    "expiringRow": N_("{points} expire on {date}"),
    "waysToEarn": N_("Ways to earn"),
    "rewards": N_("Rewards to redeem"),
    "redeem": N_("Redeem"),
    "redeemAsk": N_("Spend {points} on {reward}?"),
    "confirm": N_("Yes, redeem"),
    "cancel": N_("Cancel"),
    "vouchers": N_("Your discount codes"),
    "voucherExpires": N_("valid until {date}"),
    "copy": N_("Copy"),
    "copied": N_("Copied"),
    "noVouchers": N_("You have no discount codes yet."),
    "code": N_("Member code"),
    "showQr": N_("Show this code at the counter when you shop in store."),
    "referral": N_("Refer a friend"),
    "referralPitch": N_(
        "Share your link. When a friend places a first paid order, you both get a reward."
    ),
    "referralCode": N_("Your referral code: {code}"),
    "shareZalo": N_("Zalo"),
    "shareMessenger": N_("Messenger"),
    "shareSms": N_("SMS"),
    "shareVia": N_("Share through {app}"),
    "shareText": N_("Shop at {shop} with my link and we both get a reward: {url}"),
    "referralResults": N_("Friends who joined: {joined} · rewarded: {rewarded}"),
    "activity": N_("Recent activity"),
    "activityOrder": N_("Order {number}"),
    "activityRefund": N_("Refund of order {number}"),
    "activityRedeem": N_("Redeemed {reward}"),
    "activity_earn": N_("Points earned"),
    "activity_bonus": N_("Bonus points"),
    "activity_redeem": N_("Reward redeemed"),
    "activity_reverse": N_("Points returned"),
    "activity_expire": N_("Points expired"),
    "activity_adjust": N_("Points adjusted by the shop"),
    "activity_import": N_("Opening balance"),
    "activity_referral": N_("Referral reward"),
    "activity_event": N_("Points for an action"),
    "redeemed": N_("Redeemed! Your code: {code}"),
    "error": N_("Could not do that: {msg}"),
    "earnPurchase": N_("{points} for every {amount} spent"),
    "earn_birthday": N_("Bonus points in your birthday month"),
    "earn_first_order": N_("First order bonus"),
    "earn_signup": N_("Bonus for joining"),
    "earn_product_bonus": N_("Extra points on selected products"),
    "earn_special_days": N_("Multiplied points on special days"),
    "earn_tier_multiplier": N_("More points in higher tiers"),
    "earn_referral": N_("Refer a friend"),
    "done": N_("done"),
    "action_review.published": N_("Write a review"),
    "action_social.followed": N_("Follow the shop"),
    "action_profile.completed": N_("Complete your profile"),
    "action_birthday.added": N_("Add your birthday"),
}

PLURALS: dict[str, tuple[str, str]] = {
    "points": NP_("{n} point", "{n} points"),
    "needMore": NP_("{n} more point", "{n} more points"),
    "earnPoints": NP_("earn {n} point", "earn {n} points"),
}


@functools.cache
def _catalogue(locale: str) -> Translations:
    return Translations.load(str(TRANSLATIONS), [locale], domain="messages")


@functools.cache
def texts_for(locale: str) -> dict[str, Any]:
    """Every message of the widget in ``locale`` ("vi" or "en"), keyed as the script names them."""
    catalogue = _catalogue(locale if locale in LOCALES else "vi")
    texts: dict[str, Any] = {key: catalogue.gettext(msg) for key, msg in MESSAGES.items()}
    for key, (singular, plural) in PLURALS.items():
        # CLDR: Vietnamese has one form ("other"); English has "one" and "other".
        texts[key] = {
            "one": catalogue.ngettext(singular, plural, 1),
            "other": catalogue.ngettext(singular, plural, 2),
        }
    return texts
