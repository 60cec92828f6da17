"""Twilio: SMS anywhere through Twilio's Programmable Messaging."""
