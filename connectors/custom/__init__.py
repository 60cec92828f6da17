"""The custom storefront connector: canonical events over Standard Webhooks."""
