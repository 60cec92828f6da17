"""Members: create, read, update, erase, search, merge, identities, consents."""

from __future__ import annotations

import io
from dataclasses import fields

import segno
from flask import Response
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from hub.api.pagination import decode_cursor
from hub.api.pagination import page
from hub.api.pagination import page_of
from hub.api.schemas import IdentitySchema
from hub.api.schemas import MemberInSchema
from hub.api.schemas import MemberSchema
from hub.api.schemas import MemberSearchArgs
from hub.api.schemas import MergeSchema
from hub.core import current_hub
from hub.members.directory import add_identity
from hub.members.directory import consents_of
from hub.members.directory import create_member
from hub.members.directory import erase_member
from hub.members.directory import get_member
from hub.members.directory import identities_of
from hub.members.directory import search_members
from hub.members.directory import update_member
from hub.members.merges import merge_members
from hub.members.search import MemberFilters
from hub.points import ledger
from hub.tiers import current_tier

FILTER_FIELDS = tuple(f.name for f in fields(MemberFilters))

blp = Blueprint("members", __name__, url_prefix="/members", description="Members")


def member_view(session, member) -> dict:
    """The member as the API shows it: profile, consents, identities, points."""
    data = {c.name: getattr(member, c.name) for c in member.__table__.columns}
    data["consents"] = {
        c.channel: {
            "granted": c.granted,
            "source": c.source,
            "actor": c.actor or c.source,
            "evidence": c.evidence,
            "changed_at": c.changed_at,
        }
        for c in consents_of(session, member.id)
    }
    data["identities"] = [
        {"connection_id": i.connection_id, "external_id": i.external_id}
        for i in identities_of(session, member.id)
    ]
    points = ledger.balance(session, member.id)
    data["points"] = {"available": points.available, "pending": points.pending}
    tier = current_tier(session, member)
    data["tier"] = {"id": tier.id, "name": tier.name} if tier else None
    return data


def _region() -> str:
    return current_hub().config["HUB_DEFAULT_REGION"]


@blp.route("")
class Members(MethodView):
    @blp.arguments(MemberSearchArgs, location="query")
    @blp.response(200, page_of(MemberSchema))
    def get(self, args):
        """Search members by text, phone, email, tag and the console's filters, a page at a time.

        Every condition given must be met: tier, points and total spent ranges, last
        order date, birthday month, province, source connection and consent.
        """
        limit = args.pop("limit")
        after_id = decode_cursor(args.pop("cursor"))
        filters = MemberFilters(**{k: args.pop(k) for k in FILTER_FIELDS if k in args})
        with current_hub().db.session() as session:
            rows = search_members(
                session,
                g.merchant_id,
                after_id=after_id,
                limit=limit,
                region=_region(),
                filters=filters,
                **args,
            )
            result = page(rows, limit)
            result["data"] = [member_view(session, m) for m in rows]
        return result

    @blp.arguments(MemberInSchema)
    @blp.response(201, MemberSchema)
    def post(self, data):
        """Create a member. The phone is stored in E.164; phone and email are unique."""
        with current_hub().db.transaction() as session:
            member = create_member(session, g.merchant_id, data, region=_region(), actor=g.actor)
            return member_view(session, member)


@blp.route("/<int:member_id>")
class MemberById(MethodView):
    @blp.response(200, MemberSchema)
    def get(self, member_id):
        """Get one member."""
        with current_hub().db.session() as session:
            return member_view(session, get_member(session, g.merchant_id, member_id))

    @blp.arguments(MemberInSchema(partial=True))
    @blp.response(200, MemberSchema)
    def patch(self, data, member_id):
        """Change some of a member's fields; the others stay as they are."""
        with current_hub().db.transaction() as session:
            member = get_member(session, g.merchant_id, member_id)
            update_member(session, member, data, region=_region(), actor=g.actor)
            return member_view(session, member)

    @blp.response(204)
    def delete(self, member_id):
        """Erase a member's personal data; points history stays, anonymous."""
        with current_hub().db.transaction() as session:
            member = get_member(session, g.merchant_id, member_id)
            erase_member(session, member, actor=g.actor)


@blp.route("/<int:member_id>/merge")
class MemberMerge(MethodView):
    @blp.arguments(MergeSchema)
    @blp.response(200, MemberSchema)
    def post(self, data, member_id):
        """Merge another member into this one; identities, orders and points move here."""
        hub = current_hub()
        with hub.db.transaction() as session:
            survivor = merge_members(
                hub, session, g.merchant_id, member_id, data["from_member_id"], actor=g.actor
            )
            return member_view(session, survivor)


@blp.route("/<int:member_id>/identities")
class MemberIdentities(MethodView):
    @blp.arguments(IdentitySchema)
    @blp.response(201, IdentitySchema)
    def post(self, data, member_id):
        """Link the member to a customer id at one of the merchant's connections."""
        try:
            return _link(member_id, data)
        except IntegrityError:
            # The same link was written by a request at the same moment; run again, the
            # link is found: this member's answers as it is, another member's is a 409.
            return _link(member_id, data)


def _link(member_id: int, data: dict):
    with current_hub().db.transaction() as session:
        member = get_member(session, g.merchant_id, member_id)
        return add_identity(session, member, data["connection_id"], data["external_id"])


@blp.route("/<int:member_id>/qr.svg")
class MemberQr(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "The member code as a QR code, for a card, a receipt or a counter.",
                "content": {"image/svg+xml": {"schema": {"type": "string"}}},
            }
        }
    )
    def get(self, member_id):
        """The member's code as an SVG QR code; counter scanners read the code from it."""
        with current_hub().db.session() as session:
            member = get_member(session, g.merchant_id, member_id)
        svg = io.BytesIO()
        segno.make_qr(member.code, error="m").save(svg, kind="svg", scale=4, border=2, dark="#111")
        return Response(
            svg.getvalue(),
            mimetype="image/svg+xml",
            headers={"Cache-Control": "private, max-age=3600"},
        )
