"""Gateways on loopback: each a real HTTP server in a thread, speaking its vendor's protocol.

They accept sends, answer with real-shaped results and errors, and post
delivery receipts (signed as the real gateway signs them) back to the hub,
which the tests serve on loopback too (``hub_server``).
"""
