"""Points: the ledger and its lots, what an order earns, expiry, the program's settings."""
