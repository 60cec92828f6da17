"""The messaging API: settings, previews, the message log and opt-outs; bad input is a 4xx."""

from __future__ import annotations

import pytest
from simulators.fixtures import add_member
from simulators.fixtures import configure
from simulators.fixtures import connect

from hub import queue_message


@pytest.fixture
def console(api):
    return connect(api, "console", settings={}, secrets={})


def _send(hub, merchant, member, key="k", kind="points_earned"):
    return queue_message(
        hub,
        merchant_id=merchant.id,
        member_id=member["id"],
        kind=kind,
        key=key,
        variables={"points_earned": 10},
    )


def test_a_merchant_who_never_saved_settings_sends_nothing(api):
    settings = api.get("/api/v1/messaging/settings").json
    assert all(not kind["enabled"] for kind in settings["kinds"].values())
    assert settings["quiet_hours"] == {"enabled": True, "start": "21:00", "end": "08:00"}
    assert settings["caps"] == {"per_day": 3, "per_week": 10}
    assert settings["channel_order"] == ["zalo", "sms"]
    assert {k["name"] for k in settings["available_kinds"]} >= {
        "thank_you",
        "points_earned",
        "tier_up",
        "tier_near",
        "voucher_issued",
        "points_expiring",
        "birthday",
        "win_back",
    }
    assert settings["kinds"]["birthday"]["options"] == {"send_hour": 9}


def test_settings_round_trip_with_templates_and_options(api, console):
    saved = configure(
        api,
        channel_order=["sms"],
        connections={"sms": console},
        unicode=True,
        daily_budget="150000",
        kinds={
            "win_back": {
                "enabled": True,
                "templates": {"en": "Come back, {first_name}! {days} days already."},
                "options": {"days": 90},
            }
        },
    )
    again = api.get("/api/v1/messaging/settings").json
    assert again == saved
    win_back = again["kinds"]["win_back"]
    assert win_back["options"] == {"days": 90, "send_hour": 10}
    assert win_back["templates"]["en"] == "Come back, {first_name}! {days} days already."
    assert win_back["templates"]["vi"].startswith("{shop} nhớ {first_name}!")
    assert again["daily_budget"] == "150000" and again["unicode"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"kinds": {"fireworks": {"enabled": True}}}, "kinds.fireworks"),
        ({"quiet_hours": {"start": "25:00"}}, "quiet_hours"),
        ({"channel_order": ["sms", "sms"]}, "channel_order"),
        ({"channel_order": ["fax"]}, "channel_order"),
        ({"daily_budget": "-1"}, "daily_budget"),
        ({"caps": {"per_day": 0}}, "caps"),
        ({"connections": {"sms": 999}}, "connections.sms"),
        ({"kinds": {"birthday": {"options": {"send_hour": 30}}}}, "kinds.birthday.options"),
        ({"kinds": {"birthday": {"options": {"colour": "red"}}}}, "kinds.birthday.options"),
        (
            {"kinds": {"birthday": {"options": {"reward_id": 999}}}},
            "kinds.birthday.options.reward_id",
        ),
        ({"kinds": {"thank_you": {"options": {"reward_id": 1}}}}, "kinds.thank_you.options"),
        (
            {"kinds": {"thank_you": {"templates": {"vi": "{name.__class__}"}}}},
            "kinds.thank_you.templates.vi",
        ),
        ({"kinds": {"thank_you": {"templates": {"fr": "Merci"}}}}, "kinds"),
        (
            {"kinds": {"thank_you": {"zalo_template": {"params": {"x": "{nope}"}}}}},
            "kinds.thank_you.zalo_template.params.x",
        ),
    ],
)
def test_bad_settings_answer_422_naming_the_field(api, body, field):
    response = api.put("/api/v1/messaging/settings", json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert any(key.startswith(field.split(".")[0]) for key in response.json["error"]["details"])


def test_another_merchants_connection_or_reward_cannot_be_used(api, other_api):
    theirs = connect(other_api, "console", settings={}, secrets={})
    reward = other_api.post(
        "/api/v1/rewards",
        json={"name": "Quà", "kind": "percent_off", "value": "10", "points_cost": 100},
    ).json
    assert (
        api.put("/api/v1/messaging/settings", json={"connections": {"sms": theirs}}).status_code
        == 422
    )
    body = {"kinds": {"birthday": {"options": {"reward_id": reward["id"]}}}}
    assert api.put("/api/v1/messaging/settings", json=body).status_code == 422


def test_preview_of_a_draft_counts_its_parts(api, console):
    configure(api, channel_order=["sms"], connections={"sms": console}, unicode=True)
    draft = "Chào {first_name}! " + "Ưu đãi tháng này dành cho bạn. " * 3
    preview = api.post(
        "/api/v1/messaging/preview", json={"kind": "birthday", "template": draft, "locale": "vi"}
    ).json
    assert preview["text"].startswith("Chào Lan!")
    # A birthday message advertises: its SMS is shown with the mark and the opt-out line
    assert preview["sms"]["text"].startswith("[QC] Chào Lan!")
    assert preview["sms"]["text"].endswith(" Từ chối nhận QC, trả lời TC")
    assert preview["sms"]["encoding"] == "UCS-2" and preview["sms"]["segments"] == 3
    ascii_only = api.post(
        "/api/v1/messaging/preview",
        json={"kind": "birthday", "template": draft, "unicode": False},
    ).json["sms"]
    assert ascii_only["encoding"] == "GSM-7" and ascii_only["segments"] == 1


def test_preview_refuses_what_it_cannot_render(api, other_api):
    theirs = add_member(other_api)
    unknown = api.post("/api/v1/messaging/preview", json={"kind": "fireworks"})
    bad = api.post("/api/v1/messaging/preview", json={"kind": "birthday", "template": "{oops"})
    foreign = api.post(
        "/api/v1/messaging/preview", json={"kind": "birthday", "member_id": theirs["id"]}
    )
    assert (unknown.status_code, bad.status_code, foreign.status_code) == (422, 422, 404)


def test_the_log_lists_newest_first_filters_and_pages(api, hub, merchant, console):
    configure(
        api,
        channel_order=["sms"],
        connections={"sms": console},
        kinds={"points_earned": {"enabled": True}, "tier_near": {"enabled": True}},
    )
    member = add_member(api)
    ids = [_send(hub, merchant, member, key=str(i)) for i in range(3)]
    skipped = _send(hub, merchant, member, key="m", kind="tier_near")  # no marketing consent
    everything = api.get("/api/v1/messages").json["data"]
    assert [m["id"] for m in everything] == [skipped, *reversed(ids)]
    only_skipped = api.get("/api/v1/messages?status=skipped").json["data"]
    assert [m["id"] for m in only_skipped] == [skipped]
    first = api.get("/api/v1/messages?limit=2").json
    second = api.get(f"/api/v1/messages?limit=2&cursor={first['next_cursor']}").json
    assert [m["id"] for m in first["data"] + second["data"]] == [skipped, *reversed(ids)]
    third = api.get(f"/api/v1/messages?limit=2&cursor={second['next_cursor']}").json
    assert (third["data"], third["next_cursor"]) == ([], None)
    assert (
        api.get(f"/api/v1/messages?member_id={member['id']}&kind=tier_near").json["data"][0][
            "reason"
        ]
        == "no channel can reach this member: sms: no consent"
    )


def test_another_merchant_sees_none_of_the_messages(api, other_api, hub, merchant, console):
    configure(
        api,
        channel_order=["sms"],
        connections={"sms": console},
        kinds={"points_earned": {"enabled": True}},
    )
    member = add_member(api)
    message_id = _send(hub, merchant, member)
    assert other_api.get("/api/v1/messages").json["data"] == []
    assert other_api.get(f"/api/v1/messages/{message_id}").status_code == 404
    assert other_api.get(f"/api/v1/members/{member['id']}/messages").status_code == 404
    assert (
        other_api.post(
            f"/api/v1/members/{member['id']}/opt-outs", json={"channel": "sms"}
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/messages?status=bogus",
        "/api/v1/messages?limit=0",
        "/api/v1/messages?cursor=%%%",
        "/api/v1/messages?channel=fax",
    ],
)
def test_bad_queries_answer_422(api, path):
    assert api.get(path).status_code == 422


def test_opt_outs_need_a_number_and_a_known_channel(api):
    no_phone = api.post("/api/v1/members", json={"email": "a@example.vn", "name": "A"}).json
    member = add_member(api)
    assert (
        api.post(f"/api/v1/members/{no_phone['id']}/opt-outs", json={"channel": "sms"}).status_code
        == 422
    )
    assert (
        api.post(f"/api/v1/members/{member['id']}/opt-outs", json={"channel": "fax"}).status_code
        == 422
    )
    assert api.delete(f"/api/v1/members/{member['id']}/opt-outs/fax").status_code == 404
    assert api.delete(f"/api/v1/members/{member['id']}/opt-outs/sms").status_code == 404
    twice = [
        api.post(f"/api/v1/members/{member['id']}/opt-outs", json={"channel": "sms"}) for _ in "ab"
    ]
    assert [r.status_code for r in twice] == [201, 201]
    assert len(twice[1].json["data"]) == 1


def test_an_email_address_is_opted_out_of_email_and_a_number_of_the_rest(api):
    # Given a member with an e-mail address and no phone
    member = api.post("/api/v1/members", json={"email": "Lan@Example.vn", "name": "Lan"}).json
    # When the merchant opts them out of everything
    response = api.post(f"/api/v1/members/{member['id']}/opt-outs", json={"channel": "all"})
    # Then only e-mail is recorded, for the address as stored (lower case)
    assert response.status_code == 201
    assert [(o["channel"], o["address"]) for o in response.json["data"]] == [
        ("email", "lan@example.vn")
    ]
    # And lifting it works by channel, as for a number
    assert api.delete(f"/api/v1/members/{member['id']}/opt-outs/email").status_code == 204
    assert api.get(f"/api/v1/members/{member['id']}/opt-outs").json["data"] == []


def test_a_callback_for_a_deleted_connection_is_not_found(api, client, hub, console):
    from hub.messaging.callbacks import callback_token

    api.delete(f"/api/v1/connections/{console}")
    token = callback_token(hub, console)
    response = client.post(f"/messaging/console/{console}/receipts?token={token}", data={})
    assert response.status_code == 404
    assert client.get(f"/messaging/console/{console}/receipts").status_code == 401


def test_a_gateway_without_callbacks_says_so(api, client, hub, console):
    from hub.messaging.callbacks import callback_token

    token = callback_token(hub, console)
    response = client.post(f"/messaging/console/{console}/receipts?token={token}", data={})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "no_callbacks"
