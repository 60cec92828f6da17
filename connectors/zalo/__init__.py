"""Zalo ZNS: template notifications to a phone number, from a Zalo Official Account."""
