"""Flask's signed-cookie sessions, read only when a request carries the cookie.

Flask's own interface builds its signing serializer (a key derivation) on
every request before it looks for the cookie. The hub's API, widget and
webhooks never use the cookie session, so for them that work is pure cost:
here a request without the cookie gets an empty session at once, and the
serializer is built only when a session is read or written.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import Request
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface


class LazyCookieSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions that skip the signer for requests without the cookie."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not app.secret_key:
            return None  # Flask's null session: using it says the secret key is missing
        if not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        if not (session or session.modified or session.accessed):
            return  # untouched and empty: no cookie to write or delete, no Vary header
        super().save_session(app, session, response)
