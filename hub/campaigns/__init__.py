"""Campaigns: a message, and maybe a voucher, for a segment or an uploaded list.

* ``drafts``: create, read, change a campaign; its checks;
* ``states``: schedule, pause, resume, cancel;
* ``audience``: who a run writes to, the control group held out;
* ``sending``: the batch jobs that write and send the messages, resumably;
* ``sweep``: the periodic job that starts due runs and restarts stalled ones;
* ``kind``: the ``campaign`` message kind, whose settings are the campaign's;
* ``estimate``: recipients after consent, opt-outs and caps, and the cost;
* ``trial``: a test send to the merchant's own phone;
* ``results`` and ``lift``: what the campaign did, against the control group.

Campaign messages go through ``hub.messaging`` like every other message, so
consent, opt-outs, quiet hours, caps, budget and receipts apply to them.
"""

from hub.campaigns.drafts import create_campaign
from hub.campaigns.drafts import get_campaign
from hub.campaigns.drafts import list_campaigns
from hub.campaigns.drafts import load_campaign
from hub.campaigns.drafts import schedule_of
from hub.campaigns.drafts import update_campaign
from hub.campaigns.estimate import estimate
from hub.campaigns.results import results
from hub.campaigns.states import cancel_campaign
from hub.campaigns.states import pause_campaign
from hub.campaigns.states import resume_campaign
from hub.campaigns.states import schedule_campaign
from hub.campaigns.trial import send_test

__all__ = [
    "cancel_campaign",
    "create_campaign",
    "estimate",
    "get_campaign",
    "list_campaigns",
    "load_campaign",
    "pause_campaign",
    "results",
    "resume_campaign",
    "schedule_campaign",
    "schedule_of",
    "send_test",
    "update_campaign",
]
