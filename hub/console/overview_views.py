"""Overview: the shop's numbers at a glance; Counter: a cashier's member lookup."""

from __future__ import annotations

from flask import request

from hub.console.web import bp
from hub.console.web import render
from hub.console.web import requires
from hub.console.web import user
from hub.core import current_hub
from hub.members.directory import search_members
from hub.overview import merchant_overview
from hub.points import ledger


@bp.get("/overview")
@requires("manager")
def overview():
    me = user()
    with current_hub().db.session() as session:
        numbers = merchant_overview(session, me.merchant_id, me.timezone)
    return render("console/overview.html", numbers=numbers)


@bp.get("/counter")
@requires("cashier")
def counter():
    """Find a member by phone, code or name and see their points (what a till needs)."""
    me = user()
    q = request.args.get("q", "").strip()[:100]
    found = []
    if q:
        hub = current_hub()
        with hub.db.session() as session:
            members = search_members(
                session, me.merchant_id, q=q, limit=10, region=hub.config["HUB_DEFAULT_REGION"]
            )
            found = [(m, ledger.balance(session, m.id)) for m in members]
    return render("console/counter.html", q=q, found=found)
