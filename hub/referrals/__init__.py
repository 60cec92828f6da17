"""Referrals: a member's link brings a friend; the friend's first paid order rewards both, once.

``terms`` holds the merchant's settings, ``codes`` each member's referral
code, ``claims`` ties a friend to the code they arrived with (refusing
self-referral and friends the store already knew), and ``settlement`` moves
referrals along as orders are paid and refunded: pending through the refund
window, then rewarded, rejected or reversed. docs/referrals.md tells the
merchant's side.
"""
