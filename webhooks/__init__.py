"""Webhook transport, both ways: inbound intake and outbound delivery."""
