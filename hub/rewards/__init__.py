"""Rewards and vouchers: the catalog, redemption, and the vouchers it issues."""
