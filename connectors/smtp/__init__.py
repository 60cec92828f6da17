"""E-mail through any SMTP server (the standard library's smtplib)."""
