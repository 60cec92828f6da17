"""Merchants, their API keys, and their connections to stores, tills and gateways."""
