"""eSMS.vn: SMS and ZNS through Vietnam's eSMS gateway."""
