"""Orders: recording canonical orders and refunds, one at a time or set-based."""
