"""Server-rendered pages: the API reference and health checks. No CDN, works offline."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import current_app
from flask import jsonify
from flask import render_template
from sqlalchemy import text

from hub.core import current_hub

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


@bp.get("/healthz")
def healthz():
    """Liveness and readiness: the database answers, and Redis when configured."""
    hub = current_hub()
    checks = {}
    with hub.db.session() as session:
        checks["database"] = session.execute(text("SELECT 1")).scalar() == 1
    if not hub.jobs.is_inline:
        try:
            checks["redis"] = bool(hub.jobs.redis.ping())
        except Exception:
            checks["redis"] = False
    ok = all(checks.values())
    return jsonify({"ok": ok, "checks": checks}), 200 if ok else 503


@bp.get("/")
def index():
    return render_template("index.html")


def init_pages(app: Flask) -> None:
    app.register_blueprint(bp)
