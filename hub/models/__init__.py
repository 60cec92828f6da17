"""The core's tables. Plugins define theirs on the same ``Model`` base."""

from hub.messaging.models import Message
from hub.messaging.models import MessageOptOut
from hub.messaging.models import MessagingSettings
from hub.models.actions import ActionRule
from hub.models.actions import MemberAction
from hub.models.audit import AuditRecord
from hub.models.campaigns import Campaign
from hub.models.campaigns import CampaignRecipient
from hub.models.connections import Connection
from hub.models.events import EventRecord
from hub.models.idempotency import IdempotencyRecord
from hub.models.jobs import JobRecord
from hub.models.ledger import OrderAccrual
from hub.models.ledger import PointAllocation
from hub.models.ledger import PointEntry
from hub.models.ledger import PointLot
from hub.models.members import Member
from hub.models.members import MemberConsent
from hub.models.members import MemberIdentity
from hub.models.members import MemberMerge
from hub.models.merchants import ApiKey
from hub.models.merchants import EventSigningSecret
from hub.models.merchants import Merchant
from hub.models.orders import Order
from hub.models.orders import OrderLine
from hub.models.program import ProgramVersion
from hub.models.referrals import Referral
from hub.models.referrals import ReferralCode
from hub.models.referrals import ReferralSettings
from hub.models.refunds import OrderRefund
from hub.models.reports import ReportDay
from hub.models.reports import ReportMemberDay
from hub.models.reports import ReportStaleDay
from hub.models.rewards import Reward
from hub.models.rewards import Voucher
from hub.models.segments import Segment
from hub.models.staff import SignInFailure
from hub.models.staff import StaffLink
from hub.models.staff import StaffSession
from hub.models.staff import StaffUser
from hub.models.tiers import MemberTier
from hub.models.tiers import Tier
from hub.models.tiers import TierNotice
from hub.models.tiers import TierSettings

__all__ = [
    "ActionRule",
    "ApiKey",
    "AuditRecord",
    "Campaign",
    "CampaignRecipient",
    "Connection",
    "EventRecord",
    "EventSigningSecret",
    "IdempotencyRecord",
    "JobRecord",
    "Member",
    "MemberAction",
    "MemberConsent",
    "MemberIdentity",
    "MemberMerge",
    "MemberTier",
    "Merchant",
    "Message",
    "MessageOptOut",
    "MessagingSettings",
    "Order",
    "OrderAccrual",
    "OrderLine",
    "OrderRefund",
    "PointAllocation",
    "PointEntry",
    "PointLot",
    "ProgramVersion",
    "Referral",
    "ReferralCode",
    "ReferralSettings",
    "ReportDay",
    "ReportMemberDay",
    "ReportStaleDay",
    "Reward",
    "Segment",
    "SignInFailure",
    "StaffLink",
    "StaffSession",
    "StaffUser",
    "Tier",
    "TierNotice",
    "TierSettings",
    "Voucher",
]
