"""The KiotViet connector: webhooks in, canonical orders and customers out."""
