"""WSGI entry point for production servers: ``gunicorn hub.wsgi:app``."""

import gc

from hub.app import create_app

app = create_app()
# What the app built at start lives as long as the process: keep it out of the
# collector's full passes, which would otherwise walk it again and again.
gc.freeze()
