"""Server-rendered pages: the API reference. No CDN, works offline.

The health checks live in ``hub.probes``.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import render_template

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/api/v1/docs")
def api_docs():
    """A readable page of every operation and schema, drawn from the OpenAPI spec."""
    spec = current_app.extensions["hub_api"].spec.to_dict()
    operations = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, op in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                operations.append({"path": path, "method": method.upper(), **op})
    schemas = spec.get("components", {}).get("schemas", {})
    return render_template("api_docs.html", spec=spec, operations=operations, schemas=schemas)


@bp.get("/")
def index():
    return render_template("index.html")


def init_pages(app: Flask) -> None:
    app.register_blueprint(bp)
