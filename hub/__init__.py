"""Storefront Hub: the public API for plugin authors.

Import what a plugin needs from here (``from hub import hookimpl, Order``);
modules under ``hub.`` that are not re-exported here are internal and may
change between versions.
"""

from __future__ import annotations

from hub import privacy as _privacy  # noqa: F401  registers the privacy record handlers
from hub.address_policy import AddressPolicy
from hub.address_policy import BlockedURL
from hub.address_policy import check_literal as check_outside_url
from hub.api import register_api_blueprint
from hub.audit import record as record_audit
from hub.calendar_days import day_text
from hub.canonical import Address
from hub.canonical import ConnectionUninstalled
from hub.canonical import Customer
from hub.canonical import CustomerDataRequest
from hub.canonical import CustomerRedaction
from hub.canonical import Order
from hub.canonical import OrderLine
from hub.canonical import Refund
from hub.canonical import ShopRedaction
from hub.canonical import VoucherUse
from hub.connection_settings import ConnectionSettingsSchema
from hub.connection_settings import Flag as SettingFlag
from hub.connection_settings import GatewaySettingsSchema
from hub.connection_settings import Secret
from hub.connection_settings import SecretsSchema
from hub.connection_settings import StorefrontSettingsSchema
from hub.connection_settings import Text as SettingText
from hub.console.web import plugin_blueprint as console_blueprint
from hub.console.web import render as render_console_page
from hub.console.web import requires as console_requires
from hub.console.web import user as console_user
from hub.core import Hub
from hub.core import current_hub
from hub.db import JSONType
from hub.db import Model
from hub.db import Money
from hub.db import UTCDateTime
from hub.db import latest_today
from hub.db import per_transaction
from hub.db import utcnow
from hub.errors import Conflict
from hub.errors import HubError
from hub.errors import NotFound
from hub.errors import PermanentError
from hub.errors import RetryLater
from hub.errors import StartupError
from hub.errors import Unauthorized
from hub.errors import ValidationError
from hub.events import Event
from hub.events import emit
from hub.events import handles_events
from hub.events import wants_events
from hub.http import AnswerTooLarge
from hub.http import OutsideHTTP
from hub.http import OutsideResponse
from hub.http import OutsideUnreachable
from hub.http import check_outside_host
from hub.http import outside_http
from hub.http import raise_for_status
from hub.http import transient_status
from hub.jobs import JobCall
from hub.jobs import PeriodicJob
from hub.markers import hookimpl
from hub.members.directory import add_identity
from hub.members.directory import create_member
from hub.members.directory import identities_of
from hub.members.directory import member_by_identity
from hub.members.directory import set_consent
from hub.merchants.connections import active_connection_ids
from hub.merchants.connections import connection_secrets
from hub.messaging.audiences import birthday_members
from hub.messaging.audiences import daily_runs
from hub.messaging.audiences import expiring_points
from hub.messaging.audiences import lapsed_members
from hub.messaging.audiences import order_facts
from hub.messaging.gateways import AddressOptOut
from hub.messaging.gateways import DeliveryReceipt
from hub.messaging.gateways import Gateway
from hub.messaging.gateways import GatewayCallback
from hub.messaging.gateways import GatewayConnector
from hub.messaging.gateways import InboundMessage
from hub.messaging.gateways import OutgoingMessage
from hub.messaging.gateways import RecipientOptedOut
from hub.messaging.gateways import SendResult
from hub.messaging.gateways import SharedContact
from hub.messaging.kinds import MessageKind
from hub.messaging.outbox import kind_options
from hub.messaging.outbox import queue_message
from hub.messaging.outbox import when_kind_enabled
from hub.messaging.secrets import refresh_connection_secrets
from hub.metrics import GaugeReading
from hub.metrics import count as count_metric
from hub.metrics import register_gauges
from hub.models import Connection
from hub.models import Member
from hub.models import MemberTier
from hub.models import Merchant
from hub.models import PointEntry
from hub.models import PointLot
from hub.models import Tier
from hub.models.rewards import Voucher
from hub.orders.batches import record_order
from hub.orders.batches import record_orders
from hub.orders.recording import record_refund
from hub.phones import normalize_phone
from hub.points.earning import Award
from hub.points.earning import counted_orders
from hub.points.earning import grant_points
from hub.points.earning import rule_awarded
from hub.points.ledger import debit as debit_points
from hub.points.ledger import give_back as give_back_points
from hub.points.ledger import lock_member
from hub.points.program import Program
from hub.points.program import ProgramRule
from hub.points.program import ProgramsInForce
from hub.points.program import program_for
from hub.records import apply_record
from hub.registry import AccessKey
from hub.registry import ApiInterface
from hub.registry import Connector
from hub.registry import ConsolePage
from hub.registry import DeliveryHealth
from hub.registry import IssuedAccessKey
from hub.registry import UnknownConnector
from hub.registry import WebhookDelivery
from hub.rewards.catalog import get_reward
from hub.rewards.catalog import list_rewards
from hub.rewards.catalog import redeem as redeem_reward
from hub.rewards.vouchers import use_voucher
from hub.rewards.vouchers import validate_voucher
from hub.rewards.vouchers import voucher_status
from hub.segments import SegmentCondition
from hub.segments import SegmentContext
from hub.segments import count_members as count_segment_members
from hub.segments import segment_members
from hub.simulated_storefront import add_storefront
from hub.simulated_storefront import storefront_customer
from hub.simulators import LoopbackServer
from hub.simulators import StoreSimulator
from hub.simulators import body_signature
from hub.store_connector import StoreConnection
from hub.store_connector import StoreConnector
from hub.store_connector import StoreInstall
from hub.store_connector import claim_install
from hub.store_connector import installed_connection
from hub.store_connector import open_connection
from hub.store_connector import public_url
from hub.store_connector import update_connection_settings
from hub.store_sync import StoreBackfill
from hub.store_sync import StorePage
from hub.store_sync import StoreSync
from hub.store_sync import apply_pages
from hub.store_sync import run_backfill
from hub.store_sync import walk_pages
from hub.store_toolkit import StoreOperations
from hub.store_toolkit import add_store_commands
from hub.store_toolkit import hub_errors_as_click
from hub.store_toolkit import simulate_command
from hub.store_toolkit import store_commands
from hub.store_toolkit import store_operations
from hub.store_web import StoreWeb
from hub.tiers import TierStats
from hub.tiers import current_tier
from hub.widget.state import member_qr_svg

__version__ = "0.1.0"

#: Names that left the public API and still work for a while, with a warning:
#: old name -> (the name to use instead, the version that removes it).
_DEPRECATED: dict[str, tuple[str, str]] = {}


def __getattr__(name: str) -> object:
    """Answer a deprecated name with a ``DeprecationWarning`` naming its replacement."""
    if name in _DEPRECATED:
        import warnings

        replacement, removed_in = _DEPRECATED[name]
        warnings.warn(
            f"hub.{name} is deprecated and goes away in {removed_in}; use hub.{replacement}",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[replacement]
    raise AttributeError(f"module 'hub' has no attribute {name!r}")


# The public API, by group (docs/public-api.md says what each group is for).
# tests/public_api_names.txt keeps every name ever published; one may leave
# only through _DEPRECATED below, for at least one minor version.
# -- Plugins: the hook marker, the hub, startup and wiring
__all__ = [
    "ApiInterface",
    "ConsolePage",
    "GaugeReading",
    "Hub",
    "JobCall",
    "PeriodicJob",
    "__version__",
    "console_blueprint",
    "console_requires",
    "console_user",
    "count_metric",
    "current_hub",
    "hookimpl",
    "record_audit",
    "register_api_blueprint",
    "register_gauges",
    "render_console_page",
]
# -- Errors
__all__ += [
    "AnswerTooLarge",
    "BlockedURL",
    "Conflict",
    "HubError",
    "NotFound",
    "OutsideUnreachable",
    "PermanentError",
    "RecipientOptedOut",
    "RetryLater",
    "StartupError",
    "Unauthorized",
    "UnknownConnector",
    "ValidationError",
]
# -- Events
__all__ += [
    "Event",
    "emit",
    "handles_events",
    "wants_events",
]
# -- Canonical records and applying them
__all__ += [
    "Address",
    "ConnectionUninstalled",
    "Customer",
    "CustomerDataRequest",
    "CustomerRedaction",
    "Order",
    "OrderLine",
    "Refund",
    "ShopRedaction",
    "VoucherUse",
    "apply_record",
    "record_order",
    "record_orders",
    "record_refund",
]
# -- Database: the model base, column types, tables
__all__ += [
    "Connection",
    "JSONType",
    "Member",
    "MemberTier",
    "Merchant",
    "Model",
    "Money",
    "PointEntry",
    "PointLot",
    "Tier",
    "UTCDateTime",
    "Voucher",
    "latest_today",
    "per_transaction",
    "utcnow",
]
# -- Members
__all__ += [
    "add_identity",
    "create_member",
    "identities_of",
    "member_by_identity",
    "normalize_phone",
    "set_consent",
]
# -- Points, tiers and rewards
__all__ += [
    "Award",
    "Program",
    "ProgramRule",
    "ProgramsInForce",
    "TierStats",
    "counted_orders",
    "current_tier",
    "debit_points",
    "get_reward",
    "give_back_points",
    "grant_points",
    "list_rewards",
    "lock_member",
    "member_qr_svg",
    "program_for",
    "redeem_reward",
    "rule_awarded",
    "use_voucher",
    "validate_voucher",
    "voucher_status",
]
# -- Connectors and their settings
__all__ += [
    "AccessKey",
    "ConnectionSettingsSchema",
    "Connector",
    "DeliveryHealth",
    "GatewaySettingsSchema",
    "IssuedAccessKey",
    "Secret",
    "SecretsSchema",
    "SettingFlag",
    "SettingText",
    "StorefrontSettingsSchema",
    "WebhookDelivery",
    "active_connection_ids",
    "connection_secrets",
]
# -- Outside calls
__all__ += [
    "AddressPolicy",
    "OutsideHTTP",
    "OutsideResponse",
    "check_outside_host",
    "check_outside_url",
    "outside_http",
    "raise_for_status",
    "transient_status",
]
# -- Store connector toolkit and simulators
__all__ += [
    "LoopbackServer",
    "StoreBackfill",
    "StoreConnection",
    "StoreConnector",
    "StoreInstall",
    "StoreOperations",
    "StorePage",
    "StoreSimulator",
    "StoreSync",
    "StoreWeb",
    "add_store_commands",
    "add_storefront",
    "apply_pages",
    "body_signature",
    "claim_install",
    "hub_errors_as_click",
    "installed_connection",
    "open_connection",
    "public_url",
    "run_backfill",
    "simulate_command",
    "store_commands",
    "store_operations",
    "storefront_customer",
    "update_connection_settings",
    "walk_pages",
]
# -- Messaging: gateways, message kinds, audiences
__all__ += [
    "AddressOptOut",
    "DeliveryReceipt",
    "Gateway",
    "GatewayCallback",
    "GatewayConnector",
    "InboundMessage",
    "MessageKind",
    "OutgoingMessage",
    "SendResult",
    "SharedContact",
    "birthday_members",
    "daily_runs",
    "day_text",
    "expiring_points",
    "kind_options",
    "lapsed_members",
    "order_facts",
    "queue_message",
    "refresh_connection_secrets",
    "when_kind_enabled",
]
# -- Segments
__all__ += [
    "SegmentCondition",
    "SegmentContext",
    "count_segment_members",
    "segment_members",
]
