"""Points for actions: the events API and its earning rules, idempotent under replay and races."""

import threading
from datetime import UTC
from datetime import datetime

import pytest

from hub.models import Member
from hub.points.actions import record_action

RULES = [
    {"kind": "review.published", "points": 50, "limit_count": 2, "limit_period": "month"},
    {"kind": "profile.completed", "points": 100, "first_time_only": True},
    {"kind": "social.followed", "points": 20, "enabled": False},
]


@pytest.fixture
def lan(api):
    answer = api.put("/api/v1/events/rules", json={"data": RULES})
    assert answer.status_code == 200, answer.json
    return api.post("/api/v1/members", json={"phone": "0912345678", "name": "Lan"}).json


def report(api, key, kind="review.published", **body):
    body = {"kind": kind, "phone": "0912345678", **body}
    return api.post("/api/v1/events", json=body, headers={"Idempotency-Key": key})


def balance(api, member):
    return api.get(f"/api/v1/members/{member['id']}").json["points"]["available"]


def test_an_event_earns_its_rules_points_and_a_replay_earns_nothing(api, lan):
    first = report(api, "review-1", occurred_at="2026-11-03T10:00:00+07:00")
    assert first.status_code == 201, first.json
    assert (first.json["outcome"], first.json["points"]) == ("earned", 50)
    again = report(api, "review-1", occurred_at="2026-11-03T10:00:00+07:00")
    assert again.status_code in (200, 201) and again.json["id"] == first.json["id"]
    assert balance(api, lan) == 50
    ledger = api.get(f"/api/v1/members/{lan['id']}/ledger").json["data"]
    assert [(e["kind"], e["points"]) for e in ledger] == [("bonus", 50)]


def test_limits_per_period_and_first_time_only_stop_the_earning(api, lan):
    november = [
        report(api, f"r-{n}", occurred_at=f"2026-11-0{n + 1}T09:00:00+07:00") for n in range(3)
    ]
    assert [r.json["outcome"] for r in november] == ["earned", "earned", "limit"]
    # A new month (in the shop's timezone: 1 December 00:30 in Hanoi) earns again.
    december = report(api, "r-dec", occurred_at="2026-11-30T17:30:00Z")
    assert december.json["outcome"] == "earned"
    profile = [report(api, f"p-{n}", kind="profile.completed") for n in range(2)]
    assert [p.json["outcome"] for p in profile] == ["earned", "first_time_only"]
    switched_off = report(api, "s-1", kind="social.followed")
    assert (switched_off.json["outcome"], switched_off.json["points"]) == ("no_rule", 0)
    assert balance(api, lan) == 3 * 50 + 100


def test_a_key_reused_for_another_event_is_refused(api, lan):
    report(api, "k-1")
    reused = api.post(
        "/api/v1/events",
        json={"kind": "profile.completed", "member_id": lan["id"]},
        headers={"Idempotency-Key": "k-1"},
    )
    assert reused.status_code in (409, 422), reused.json
    assert balance(api, lan) == 50


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"kind": "review.published", "phone": "0912345678"}, {}, 422, "validation_error"),
        (
            {"kind": "Review Published", "phone": "0912345678"},
            {"Idempotency-Key": "a"},
            422,
            "validation_error",
        ),
        ({"kind": "review.published"}, {"Idempotency-Key": "b"}, 422, "validation_error"),
        (
            {"kind": "review.published", "phone": "0999999999"},
            {"Idempotency-Key": "c"},
            404,
            "member_not_found",
        ),
        (
            {"kind": "review.published", "member_id": 10**30},
            {"Idempotency-Key": "d"},
            422,
            "validation_error",
        ),
    ],
)
def test_bad_events_get_a_clear_error(api, lan, body, headers, status, code):
    answer = api.post("/api/v1/events", json=body, headers=headers)
    assert answer.status_code == status, answer.json
    assert answer.json["error"]["code"] == code


@pytest.mark.parametrize(
    "rules",
    [
        [{"kind": "review.published", "points": 5}, {"kind": "review.published", "points": 6}],
        [{"kind": "review.published", "points": 0}],
        [{"kind": "review.published", "points": 5, "limit_count": 2}],
        [{"kind": "review.published", "points": 5, "limit_count": 2, "limit_period": "hour"}],
    ],
)
def test_bad_rules_are_refused(api, rules):
    answer = api.put("/api/v1/events/rules", json={"data": rules})
    assert answer.status_code == 422, answer.json


def test_concurrent_replays_and_events_award_exactly_what_the_rules_allow(api, hub, lan):
    """Eight threads: four send one key, four send distinct keys; the month allows two."""
    results, errors = [], []
    at = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)

    def send(key):
        try:
            with hub.db.transaction() as session:
                member = session.get(Member, lan["id"])
                done = record_action(session, member, "review.published", key, occurred_at=at)
                results.append((key, done.action.outcome, done.replayed))
        except Exception as exc:  # a lost insert race on the key: the caller retries
            errors.append(type(exc).__name__)

    keys = ["same"] * 4 + [f"other-{n}" for n in range(4)]
    threads = [threading.Thread(target=send, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(errors) <= {"IntegrityError", "OperationalError"}
    assert balance(api, lan) == 100  # two earn in the month, whatever the order
    earned = {key for key, outcome, replayed in results if outcome == "earned" and not replayed}
    assert len(earned) == 2
    for key in earned:
        assert report(api, key, occurred_at=at.isoformat()).json["outcome"] == "earned"
    assert balance(api, lan) == 100


def test_the_widget_shows_ways_to_earn_by_action_with_their_state(api, hub, client):
    from widget_setup import set_up_storefront

    from hub.widget.tokens import sign_visitor

    store = set_up_storefront(api, hub, points=0)
    api.put("/api/v1/events/rules", json={"data": RULES})
    api.post(
        "/api/v1/events",
        json={"kind": "profile.completed", "member_id": store.member_id},
        headers={"Idempotency-Key": "profile-1"},
    )
    token = sign_visitor(store.customer_id, store.widget_secret)
    body = client.get(
        f"/widget/v1/c/{store.connection_id}/state", headers={"Authorization": f"Bearer {token}"}
    ).json
    actions = [w for w in body["ways_to_earn"] if w["kind"] == "action"]
    assert [(w["action"], w["points"]) for w in actions] == [
        ("review.published", 50),
        ("profile.completed", 100),
    ]
    assert body["member"]["actions"] == {"review.published": "open", "profile.completed": "done"}
    assert body["texts"]["action_review.published"] == "Viết đánh giá"
