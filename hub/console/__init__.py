"""The merchant console at ``/console``: server-rendered pages with htmx, in vi and en.

Pages call the same services as the REST API. ``init_console`` mounts the
blueprint, the catalogues and the navigation (the core's pages and those of
plugins' ``register_console_pages``).
"""

from __future__ import annotations

from flask import Flask

from hub.console import auth_views  # noqa: F401 - routes
from hub.console import campaigns_views  # noqa: F401 - routes
from hub.console import connection_actions  # noqa: F401 - routes
from hub.console import connection_views  # noqa: F401 - routes
from hub.console import events_views  # noqa: F401 - routes
from hub.console import import_views  # noqa: F401 - routes
from hub.console import member_views  # noqa: F401 - routes
from hub.console import members_views  # noqa: F401 - routes
from hub.console import messages_views  # noqa: F401 - routes
from hub.console import overview_views  # noqa: F401 - routes
from hub.console import program_views  # noqa: F401 - routes
from hub.console import referral_views  # noqa: F401 - routes
from hub.console import report_views  # noqa: F401 - routes
from hub.console import rewards_views  # noqa: F401 - routes
from hub.console import segments_views  # noqa: F401 - routes
from hub.console import settings_views  # noqa: F401 - routes
from hub.console import shop_views  # noqa: F401 - routes
from hub.console import tier_views  # noqa: F401 - routes
from hub.console import widget_views  # noqa: F401 - routes
from hub.console.dates import install as install_dates
from hub.console.figures import figure
from hub.console.i18n import init_i18n
from hub.console.nav import init_nav
from hub.console.nav import label
from hub.console.nav import labelled
from hub.console.schema_forms import plain
from hub.console.web import bp
from hub.input_guard import allow_large_body
from hub.merchants.staff import password_hasher


def init_console(app: Flask) -> None:
    """Mount the console on ``app``."""
    hub = app.extensions["hub"]
    password_hasher(hub.config)  # an unknown HUB_PASSWORD_HASH_PROFILE fails at boot
    init_i18n(app)
    install_dates(app)
    init_nav(app, hub.pm.hook.register_console_pages(hub=hub))
    app.jinja_env.globals["label"] = label
    app.jinja_env.globals["labelled"] = labelled
    app.jinja_env.filters["plain"] = plain
    app.jinja_env.filters["figure"] = figure
    app.register_blueprint(bp)
    allow_large_body(app, "console.import_upload", "HUB_MAX_IMPORT_BYTES")
