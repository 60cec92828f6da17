"""The generic POS connector: counter API, cashier page, POS keys."""
