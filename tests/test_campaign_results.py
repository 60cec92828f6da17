"""Before and after sending: the estimate, the test send, the budget, results and lift."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import campaign_fixtures
import pytest
import simulators.fixtures as simulators_fixtures
from campaign_fixtures import WITH_VOUCHER
from campaign_fixtures import act
from campaign_fixtures import add_member
from campaign_fixtures import campaign_row
from campaign_fixtures import new_campaign
from campaign_fixtures import results
from campaign_fixtures import run_at_night
from campaign_fixtures import sent_lines
from campaign_fixtures import vip_segment
from simulators import fixtures
from simulators.fixtures import configure
from simulators.fixtures import connect_esms
from sqlalchemy import select

from hub import utcnow
from hub.campaigns.sweep import sweep
from hub.messaging.models import Message
from hub.models import CampaignRecipient

daytime = simulators_fixtures.daytime

# Campaigns send advertising SMS "now": the merchant is where the legal window is open.
pytestmark = pytest.mark.usefixtures("daytime")

console = campaign_fixtures.console
outbox = campaign_fixtures.outbox
app_context = campaign_fixtures.app_context
esms = fixtures.esms

_orders = itertools.count(1)


def estimate(api, campaign_id: int) -> dict:
    response = api.get(f"/api/v1/campaigns/{campaign_id}/estimate")
    assert response.status_code == 200, response.json
    return response.json


def test_the_estimate_counts_who_the_rules_leave_out_and_prices_the_sms_parts(api, console):
    # Given five VIP members: two reachable, one without consent, one opted out, one capped
    add_member(api)
    add_member(api)
    add_member(api, consent=False)
    gone = add_member(api)
    api.post(f"/api/v1/members/{gone['id']}/opt-outs", json={"channel": "sms"})
    # And a wording of two SMS parts (170 characters without diacritics)
    long_text = "{shop}: " + "Uu dai lon cho thanh vien than thiet. " * 4 + "{first_name}"
    campaign = new_campaign(api, segment_id=vip_segment(api), templates={"vi": long_text})
    # When the merchant asks for the estimate
    figures = estimate(api, campaign["id"])
    # Then it counts the audience, what each rule leaves out, and the cost at 500 a part
    assert figures["audience"] == 4
    assert figures["excluded"]["no_consent"] == 1
    assert figures["excluded"]["opted_out"] == 1
    assert figures["excluded"]["no_phone"] == 0
    assert figures["eligible"] == 2
    assert figures["recipients"] == 2
    assert figures["sms_parts"] == {"vi": 2}
    assert (figures["unit_cost"], figures["cost"]) == ("1000", "2000")
    assert figures["currency"] == "VND" and figures["gateway"] == "console"


def test_the_estimate_takes_off_the_control_group_and_the_budget(api, console):
    for _ in range(10):
        add_member(api)
    campaign = new_campaign(
        api, segment_id=vip_segment(api), holdout_percent=20, budget="2500", name="B"
    )
    figures = estimate(api, campaign["id"])
    assert (figures["eligible"], figures["held_out"], figures["recipients"]) == (10, 2, 8)
    assert figures["recipients_within_budget"] == 5  # 2,500 at 500 a message


def test_members_over_the_marketing_cap_are_not_counted(api, hub, console):
    # Given a cap of one marketing message a day, and a member who had one today
    configure(
        api,
        channel_order=["sms"],
        connections={"sms": console},
        caps={"per_day": 1, "per_week": None},
    )
    first = new_campaign(api, recipients=[add_member(api)["phone"]], name="first")
    act(api, first["id"], "schedule")
    add_member(api)
    # When a second campaign to both is estimated
    second = new_campaign(api, segment_id=vip_segment(api), name="second")
    figures = estimate(api, second["id"])
    # Then the member who had one today is left out by the cap
    assert figures["excluded"]["capped_day"] == 1
    assert figures["recipients"] == 1


def test_a_test_send_goes_to_the_merchants_phone_with_sample_values(api, console, outbox):
    campaign = new_campaign(
        api, recipients=[add_member(api)["phone"]], templates={"vi": "{shop} chào {first_name}"}
    )
    response = api.post(
        f"/api/v1/campaigns/{campaign['id']}/test-send", json={"phone": "0901 234 567"}
    )
    assert response.status_code == 200, response.json
    assert response.json["to"] == "+84901234567"
    assert response.json["text"] == "Cua hang Hoa Mai chao Lan"
    [line] = sent_lines(outbox)
    assert line["to"] == "+84901234567"
    # It is not a campaign message: the campaign is still a draft with no results
    assert results(api, campaign["id"])["sent"] == 0
    bad = api.post(f"/api/v1/campaigns/{campaign['id']}/test-send", json={"phone": "12"})
    assert bad.status_code == 422 and "phone" in bad.json["error"]["details"]


def test_a_test_send_the_gateway_refuses_answers_502_with_the_gateway_named(api, hub, esms):
    connection_id = connect_esms(api, esms)
    configure(api, channel_order=["sms"], connections={"sms": connection_id})
    esms.script("permanent")  # 104: not enough balance
    campaign = new_campaign(api, recipients=[add_member(api)["phone"]])
    response = api.post(
        f"/api/v1/campaigns/{campaign['id']}/test-send", json={"phone": "0901234567"}
    )
    assert response.status_code == 502, response.json
    assert response.json["error"]["code"] == "test_send_failed"
    assert response.json["error"]["details"] == {"gateway": "esms"}


def test_a_message_the_gateway_refuses_for_good_counts_as_failed(api, hub, esms):
    # Given SMS and Zalo both connected, and a campaign on SMS only
    connection_id = connect_esms(api, esms)
    zalo = api.post("/api/v1/connections", json={"connector": "console"}).json["id"]
    configure(api, channel_order=["zalo", "sms"], connections={"sms": connection_id, "zalo": zalo})
    campaign = new_campaign(api, recipients=[add_member(api)["phone"]])
    # When eSMS refuses it for good (104: not enough balance)
    esms.script("permanent")
    act(api, campaign["id"], "schedule")
    # Then it failed, with the gateway's reason, and no other channel was tried
    figures = results(api, campaign["id"])
    assert (figures["sent"], figures["failed"], figures["skipped"]) == (0, 1, 0)
    [message] = api.get("/api/v1/messages").json["data"]
    assert "104" in message["reason"]


def test_the_budget_stops_the_run_when_spent(api, hub, esms):
    # Given 770 a message through eSMS and a budget of 2,000: two messages
    connection_id = connect_esms(api, esms)
    configure(api, channel_order=["sms"], connections={"sms": connection_id})
    for _ in range(4):
        add_member(api)
    campaign = new_campaign(api, segment_id=vip_segment(api), budget="2000")
    # When it is sent
    done = act(api, campaign["id"], "schedule")
    # Then two go out, the others are left as over budget, and the run says why it stopped
    assert len(esms.sent) == 2
    assert done["state"] == "done"
    assert done["stop_reason"] == "the budget of 2000 is spent"
    figures = results(api, campaign["id"])
    assert figures["sent"] == 2
    assert Decimal(figures["cost"]) <= Decimal(2000)
    with hub.db.session() as session:
        statuses = sorted(session.scalars(select(CampaignRecipient.status)))
    assert statuses == ["over_budget", "over_budget", "queued", "queued"]


def test_a_recurring_campaign_runs_again_after_its_interval(api, hub, console, outbox, app_context):
    add_member(api)
    # An hour from now: 11:00 in the daytime zone, inside the advertising SMS window
    first = utcnow() + timedelta(hours=1)
    campaign = new_campaign(
        api,
        segment_id=vip_segment(api),
        schedule={"type": "recurring", "at": first.isoformat(), "every_days": 7},
    )
    act(api, campaign["id"], "schedule")
    assert sweep(hub, now=first)["started"] == 1
    row = campaign_row(hub, campaign["id"])
    assert (row.state, row.run, row.send_at) == ("scheduled", 1, first + timedelta(days=7))
    assert sweep(hub, now=first + timedelta(days=6))["started"] == 0
    assert sweep(hub, now=first + timedelta(days=7))["started"] == 1
    assert campaign_row(hub, campaign["id"]).run == 2
    # One message per run: the same member is written to again the next week
    assert len(sent_lines(outbox)) == 2
    assert results(api, campaign["id"], run=1)["sent"] == 1
    assert results(api, campaign["id"], run=2)["sent"] == 1


def _order(api, member: dict, total: str, *, codes: list[str] | None = None) -> dict:
    response = api.post(
        "/api/v1/orders",
        json={
            "source": "webshop",
            "external_id": f"c-{next(_orders)}",
            "currency": "VND",
            "subtotal": total,
            "total": total,
            "financial_status": "paid",
            "placed_at": utcnow().isoformat(),
            "discount_codes": codes or [],
            "customer": {"phone": member["phone"]},
        },
    )
    assert response.status_code in (200, 201), response.json
    return response.json


def test_a_rehearsal_on_the_console_gateway_costs_and_stops_at_its_price(api, hub, console):
    # Given the console gateway priced at 500 a part (the message is one part) and a budget
    # of 1,000, where nothing leaves the machine
    for _ in range(4):
        add_member(api)
    campaign = new_campaign(api, segment_id=vip_segment(api), budget="1000")
    assert estimate(api, campaign["id"])["unit_cost"] == "500"
    # When it is sent
    done = act(api, campaign["id"], "schedule")
    # Then it spends and stops as it would on a gateway charging that price
    assert done["stop_reason"] == "the budget of 1000 is spent"
    figures = results(api, campaign["id"])
    assert (figures["sent"], Decimal(figures["cost"])) == (2, Decimal(1000))


def test_results_compare_orders_of_recipients_with_the_control_group(api, hub, console, outbox):
    # Given 60 members, a campaign with a voucher and a control group of half
    reward = api.post(
        "/api/v1/rewards",
        json={"name": "Giảm 50k", "kind": "amount_off", "value": "50000", "points_cost": 100},
    ).json
    members = {m["id"]: m for m in (add_member(api) for _ in range(60))}
    campaign = new_campaign(
        api,
        segment_id=vip_segment(api),
        holdout_percent=50,
        reward_id=reward["id"],
        templates={"vi": WITH_VOUCHER},
    )
    act(api, campaign["id"], "schedule")
    with hub.db.session() as session:
        rows = session.execute(select(CampaignRecipient.member_id, CampaignRecipient.group))
        groups = dict(rows.all())
    target = [members[i] for i, g in groups.items() if g == "target"]
    control = [members[i] for i, g in groups.items() if g == "control"]
    # When every recipient buys with their voucher, and one held-out member buys too
    code_of = {
        member["id"]: api.get(f"/api/v1/members/{member['id']}/vouchers").json["data"][0]["code"]
        for member in target
    }
    for member in target:
        order = _order(api, member, "300000", codes=[code_of[member["id"]]])
        used = api.post(
            "/api/v1/vouchers/use", json={"code": code_of[member["id"]], "order_id": order["id"]}
        )
        assert used.status_code == 200, used.json
    _order(api, control[0], "200000")
    # Then the results show both groups over the window, the vouchers used and a clear lift
    figures = results(api, campaign["id"])
    assert figures["targeted"] == len(target) and figures["held_out"] == len(control)
    assert figures["vouchers_redeemed"] == len(target)
    assert figures["groups"]["target"]["buyers"] == len(target)
    assert Decimal(figures["groups"]["target"]["revenue"]) > 0
    assert figures["groups"]["control"] == {
        "members": len(control),
        "buyers": 1,
        "orders": 1,
        "revenue": "200000",
    }
    lift = figures["lift"]
    assert lift["measurable"] is True
    conversion = lift["conversion"]
    assert conversion["difference"] == pytest.approx(1 - 1 / len(control))
    assert conversion["low"] > 0 and conversion["significant"] is True
    assert lift["revenue_per_member"]["low"] > 0


def test_results_of_another_merchants_campaign_are_not_found(api, other_api, console):
    campaign = new_campaign(api, recipients=[add_member(api)["phone"]])
    response = other_api.get(f"/api/v1/campaigns/{campaign['id']}/results")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "campaign_not_found"


def test_a_run_after_22_00_holds_its_sms_until_07_00_and_ends(
    api, hub, console, outbox, app_context, client, manager
):
    # Given a merchant in Hanoi and a campaign due at 23:00 there, when advertising SMS may not go
    # When the sweep starts it (the jobs run inline: a held message picked again would spin)
    campaign, late = run_at_night(api, hub)
    # Then nothing is sent at night, both messages wait for 07:00, and the run is over
    assert sent_lines(outbox) == []
    with hub.db.session() as session:
        held = session.execute(
            select(Message.status, Message.due_at)
            .join(CampaignRecipient, CampaignRecipient.message_id == Message.id)
            .where(CampaignRecipient.campaign_id == campaign["id"])
        ).all()
    seven = late + timedelta(hours=8)  # 07:00 in Hanoi the next morning
    assert [(status, due_at) for status, due_at in held] == [("held", seven)] * 2
    assert campaign_row(hub, campaign["id"]).state == "done"
    # And the merchant is told they wait, and until when, not only that the run is done
    figures = results(api, campaign["id"])
    assert (figures["waiting"], figures["pending"]) == (2, 2)
    assert figures["waiting_until"] == seven.isoformat()
    page = client.get(f"/console/campaigns/{campaign['id']}").get_data(as_text=True)
    waiting = page.split('data-figure="waiting">', 1)[1].split("</span>", 1)[0]
    assert "2 " in waiting and "07:00" in waiting, waiting
