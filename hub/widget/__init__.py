"""The floating points widget: the loader script, visitor identity and its JSON API."""

from __future__ import annotations

from flask import Flask

from hub.widget.cache import WidgetCache
from hub.widget.ratelimit import RateLimiter
from hub.widget.storefronts import Storefronts


def init_widget(app: Flask) -> None:
    """Mount the widget's routes and give the hub its caches and rate limiter."""
    from hub.widget import invalidation
    from hub.widget.views import bp

    hub = app.extensions["hub"]
    hub.widget_cache = WidgetCache(hub)
    hub.widget_limiter = RateLimiter(hub)
    hub.widget_storefronts = Storefronts(hub)
    invalidation.install(hub)
    app.register_blueprint(bp)
