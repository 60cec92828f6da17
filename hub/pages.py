"""Server-rendered pages: the API reference. No CDN, works offline.

The health checks live in ``hub.probes``.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import render_template
from flask import request

from hub.api_reference import markdown
from hub.api_reference import reference

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/api/v1/docs")
def api_docs():
    """A readable page of every operation, grouped by tag, with examples and curl lines."""
    spec = current_app.extensions["hub_api"].spec.to_dict()
    base = current_app.config.get("HUB_PUBLIC_URL") or request.host_url
    return render_template(
        "api_docs.html",
        spec=spec,
        intro=markdown(spec.get("info", {}).get("description")),
        groups=reference(spec, base),
    )


@bp.get("/")
def index():
    return render_template("index.html")


def init_pages(app: Flask) -> None:
    app.register_blueprint(bp)
