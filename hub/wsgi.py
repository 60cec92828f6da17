"""WSGI entry point for production servers: ``gunicorn hub.wsgi:app``."""

from hub.app import create_app

app = create_app()
