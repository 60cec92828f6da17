"""The Shopify connector: OAuth install, webhooks, vouchers as discount codes, the widget."""
