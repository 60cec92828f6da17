"""Campaigns: write, schedule, pause, resume, cancel; estimate, test-send; results."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub import campaigns
from hub.api.tiers import Amount
from hub.campaigns.drafts import CampaignSchema
from hub.campaigns.drafts import schedule_of
from hub.core import current_hub
from hub.db import utcnow
from hub.messaging.templates import LOCALES

blp = Blueprint("campaigns", __name__, url_prefix="/campaigns", description="Campaigns")


class ScheduleOutSchema(Schema):
    type = fields.Str(metadata={"description": "now, at or recurring"})
    at = fields.AwareDateTime(allow_none=True)
    every_days = fields.Int(allow_none=True)


class CampaignOutSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    state = fields.Str(
        metadata={"description": "draft, scheduled, sending, paused, done or cancelled"}
    )
    audience = fields.Str(metadata={"description": "segment or list"})
    segment_id = fields.Int(allow_none=True)
    list_size = fields.Int(metadata={"description": "Members the uploaded list matched."})
    unmatched = fields.List(
        fields.Str(), metadata={"description": "Entries of the list that matched no member."}
    )
    channel = fields.Str()
    templates = fields.Dict(keys=fields.Str(), values=fields.Str())
    zalo_template = fields.Dict()
    reward_id = fields.Int(allow_none=True)
    schedule = fields.Nested(ScheduleOutSchema)
    budget = Amount(allow_none=True)
    holdout_percent = fields.Int()
    attribution_days = fields.Int()
    run = fields.Int(metadata={"description": "The run being sent or last sent."})
    stop_reason = fields.Str(allow_none=True)
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CampaignListSchema(Schema):
    data = fields.List(fields.Nested(CampaignOutSchema))


class EstimateSchema(Schema):
    """Who the campaign reaches if sent now, and what it costs."""

    audience = fields.Int(metadata={"description": "Active members in the segment or list."})
    excluded = fields.Dict(
        keys=fields.Str(),
        values=fields.Int(),
        metadata={"description": "Members each rule leaves out (no_phone, no_consent, ...)."},
    )
    eligible = fields.Int()
    held_out = fields.Int(metadata={"description": "Expected size of the control group."})
    recipients = fields.Int()
    recipients_within_budget = fields.Int()
    channel = fields.Str()
    gateway = fields.Str(allow_none=True)
    sms_parts = fields.Dict(keys=fields.Str(), values=fields.Int())
    unit_cost = Amount()
    cost = Amount()
    currency = fields.Str()


class TestSendInSchema(Schema):
    phone = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    locale = fields.Str(validate=validate.OneOf(LOCALES))


class TestSendSchema(Schema):
    to = fields.Str()
    channel = fields.Str()
    gateway = fields.Str()
    text = fields.Str()
    segments = fields.Int()
    gateway_message_id = fields.Str(allow_none=True)
    status = fields.Str()


class IntervalSchema(Schema):
    difference = fields.Float(allow_none=True)
    low = fields.Float(allow_none=True)
    high = fields.Float(allow_none=True)
    relative = fields.Float(allow_none=True)
    significant = fields.Bool()


class LiftSchema(Schema):
    measurable = fields.Bool(metadata={"description": "False without a control group."})
    conversion = fields.Nested(IntervalSchema, allow_none=True)
    revenue_per_member = fields.Nested(IntervalSchema, allow_none=True)
    incremental_revenue = Amount(allow_none=True)


class GroupSchema(Schema):
    members = fields.Int()
    buyers = fields.Int()
    orders = fields.Int()
    revenue = Amount()


class ResultsSchema(Schema):
    """A run's figures: messages, vouchers, and orders of both groups in the window."""

    campaign_id = fields.Int()
    run = fields.Int()
    state = fields.Str()
    started_at = fields.AwareDateTime(allow_none=True)
    window_ends_at = fields.AwareDateTime(allow_none=True)
    window_closed = fields.Bool()
    targeted = fields.Int()
    held_out = fields.Int()
    pending = fields.Int()
    sent = fields.Int()
    delivered = fields.Int()
    failed = fields.Int()
    skipped = fields.Int()
    waiting = fields.Int(
        metadata={"description": "Messages held until their time comes (counted in pending)."}
    )
    waiting_until = fields.AwareDateTime(
        allow_none=True, metadata={"description": "When the first held message is due."}
    )
    cost = Amount()
    opted_out_after = fields.Int()
    vouchers_redeemed = fields.Int()
    groups = fields.Dict(keys=fields.Str(), values=fields.Nested(GroupSchema))
    lift = fields.Nested(LiftSchema)


class ResultsArgs(Schema):
    run = fields.Int(validate=validate.Range(min=1))


def campaign_view(campaign) -> dict:
    """A campaign as the API shows it."""
    names = (
        "id",
        "name",
        "state",
        "audience",
        "segment_id",
        "unmatched",
        "channel",
        "templates",
        "zalo_template",
        "reward_id",
        "budget",
        "holdout_percent",
        "attribution_days",
        "run",
        "stop_reason",
        "started_at",
        "finished_at",
        "created_at",
        "updated_at",
    )
    view = {name: getattr(campaign, name) for name in names}
    view["list_size"] = len(campaign.member_ids or [])
    view["schedule"] = schedule_of(campaign)
    return view


@blp.route("")
class Campaigns(MethodView):
    @blp.response(200, CampaignListSchema)
    def get(self):
        """List the merchant's campaigns, newest first."""
        with current_hub().db.session() as session:
            found = campaigns.list_campaigns(session, g.merchant_id)
            return {"data": [campaign_view(c) for c in found]}

    @blp.arguments(CampaignSchema)
    @blp.response(201, CampaignOutSchema)
    def post(self, data):
        """Write a campaign as a draft: audience, channel, wording, voucher, schedule, budget."""
        hub = current_hub()
        with hub.db.transaction() as session:
            campaign = campaigns.create_campaign(hub, session, g.merchant_id, data, actor=g.actor)
            return campaign_view(campaign)


@blp.route("/<int:campaign_id>")
class CampaignById(MethodView):
    @blp.response(200, CampaignOutSchema)
    def get(self, campaign_id):
        """Get a campaign."""
        with current_hub().db.session() as session:
            return campaign_view(campaigns.get_campaign(session, g.merchant_id, campaign_id))

    @blp.arguments(CampaignSchema(partial=True))
    @blp.response(200, CampaignOutSchema)
    def patch(self, data, campaign_id):
        """Change a draft (409 campaign_not_draft once it is scheduled)."""
        hub = current_hub()
        with hub.db.transaction() as session:
            campaign = campaigns.get_campaign(session, g.merchant_id, campaign_id, lock=True)
            return campaign_view(
                campaigns.update_campaign(hub, session, campaign, data, actor=g.actor)
            )


def _change(action, campaign_id: int) -> dict:
    hub = current_hub()
    action(hub, g.merchant_id, campaign_id, actor=g.actor)
    with hub.db.session() as session:
        return campaign_view(campaigns.get_campaign(session, g.merchant_id, campaign_id))


@blp.route("/<int:campaign_id>/schedule", methods=["POST"])
@blp.response(200, CampaignOutSchema)
def schedule(campaign_id):
    """Schedule a draft; with a schedule of ``now`` (or a moment past) it starts sending."""
    return _change(campaigns.schedule_campaign, campaign_id)


@blp.route("/<int:campaign_id>/pause", methods=["POST"])
@blp.response(200, CampaignOutSchema)
def pause(campaign_id):
    """Pause a scheduled or sending campaign; what was sent stays sent."""
    return _change(campaigns.pause_campaign, campaign_id)


@blp.route("/<int:campaign_id>/resume", methods=["POST"])
@blp.response(200, CampaignOutSchema)
def resume(campaign_id):
    """Resume a paused campaign where it stopped."""
    return _change(campaigns.resume_campaign, campaign_id)


@blp.route("/<int:campaign_id>/cancel", methods=["POST"])
@blp.response(200, CampaignOutSchema)
def cancel(campaign_id):
    """Cancel a campaign for good; unsent recipients get nothing."""
    return _change(campaigns.cancel_campaign, campaign_id)


@blp.route("/<int:campaign_id>/estimate")
@blp.response(200, EstimateSchema)
def estimate(campaign_id):
    """Count the recipients after consent, opt-outs and caps, and estimate the cost."""
    hub = current_hub()
    with hub.db.session() as session:
        campaign = campaigns.get_campaign(session, g.merchant_id, campaign_id)
        return campaigns.estimate(hub, session, campaign, utcnow())


@blp.route("/<int:campaign_id>/test-send", methods=["POST"])
@blp.arguments(TestSendInSchema)
@blp.response(200, TestSendSchema)
def test_send(data, campaign_id):
    """Send the campaign's message, with sample values, to the merchant's own phone."""
    return campaigns.send_test(current_hub(), g.merchant_id, campaign_id, actor=g.actor, **data)


@blp.route("/<int:campaign_id>/results")
@blp.arguments(ResultsArgs, location="query")
@blp.response(200, ResultsSchema)
def results(args, campaign_id):
    """A run's results: messages, vouchers redeemed, orders and lift against the control group."""
    with current_hub().db.session() as session:
        campaign = campaigns.get_campaign(session, g.merchant_id, campaign_id)
        return campaigns.results(session, campaign, run=args.get("run"))
