"""The Haravan connector: OpenID Connect install, webhooks, vouchers as discounts, the widget."""
