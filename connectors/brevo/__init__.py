"""E-mail through Brevo's transactional API, with its webhooks for bounces and complaints."""
