"""Segments through the REST API: save, list, read with a live count, change, delete, preview."""

from __future__ import annotations

import pytest
from segment_fixtures import add_member
from segment_fixtures import picked
from sqlalchemy import Column
from sqlalchemy import and_

from hub import SegmentCondition
from hub import hookimpl
from hub.models import Member

VIP_SMS = {
    "all": [
        {"kind": "tags", "tags": ["vip"]},
        {"kind": "consent", "channel": "sms"},
    ]
}


def test_preview_counts_without_saving_and_shows_a_sample(api):
    first = add_member(api, tags=["vip"], consents={"sms": True})
    second = add_member(api, tags=["vip"], consents={"sms": True})
    add_member(api, tags=["vip"])

    response = api.post("/api/v1/segments/preview", json={"conditions": VIP_SMS})

    assert response.status_code == 200
    assert response.json["count"] == 2
    assert [member["id"] for member in response.json["sample"]] == [second, first]
    assert response.json["conditions"]["all"][0] == {
        "kind": "tags",
        "match": "any",
        "tags": ["vip"],
    }
    assert api.get("/api/v1/segments").json["data"] == []


def test_a_saved_segment_answers_its_live_count(api):
    created = api.post("/api/v1/segments", json={"name": "VIP nhận SMS", "conditions": VIP_SMS})
    assert created.status_code == 201
    segment_id = created.json["id"]
    assert api.get(f"/api/v1/segments/{segment_id}").json["count"] == 0

    member = add_member(api, tags=["vip"], consents={"sms": True})

    body = api.get(f"/api/v1/segments/{segment_id}", query_string={"sample_size": 1}).json
    assert body["count"] == 1 and [m["id"] for m in body["sample"]] == [member]
    assert [s["name"] for s in api.get("/api/v1/segments").json["data"]] == ["VIP nhận SMS"]


def test_patch_changes_the_conditions_and_delete_removes_the_segment(api):
    segment_id = api.post("/api/v1/segments", json={"name": "A", "conditions": VIP_SMS}).json["id"]
    add_member(api, province="Hà Nội")

    changed = api.patch(
        f"/api/v1/segments/{segment_id}",
        json={"conditions": {"all": [{"kind": "location", "provinces": ["Hà Nội"]}]}},
    )
    assert changed.status_code == 200
    assert api.get(f"/api/v1/segments/{segment_id}").json["count"] == 1

    assert api.delete(f"/api/v1/segments/{segment_id}").status_code == 204
    assert api.get(f"/api/v1/segments/{segment_id}").status_code == 404


def test_segment_names_are_unique_per_merchant(api, other_api):
    assert (
        api.post("/api/v1/segments", json={"name": "A", "conditions": VIP_SMS}).status_code == 201
    )
    again = api.post("/api/v1/segments", json={"name": "A", "conditions": VIP_SMS})
    assert again.status_code == 409
    assert again.json["error"]["code"] == "segment_name_taken"
    elsewhere = other_api.post("/api/v1/segments", json={"name": "A", "conditions": VIP_SMS})
    assert elsewhere.status_code == 201


def test_another_merchants_segment_is_not_found(api, other_api):
    segment_id = api.post("/api/v1/segments", json={"name": "A", "conditions": VIP_SMS}).json["id"]
    assert other_api.get(f"/api/v1/segments/{segment_id}").status_code == 404
    assert other_api.delete(f"/api/v1/segments/{segment_id}").status_code == 404
    assert api.get(f"/api/v1/segments/{segment_id}").status_code == 200


@pytest.mark.parametrize(
    ("conditions", "path", "words"),
    [
        ({"kind": "tier"}, "conditions", '"all" or "any"'),
        ({"all": [{"kind": "zodiac"}]}, "all[0].kind", "not a segment condition"),
        ({"any": []}, "conditions", "at least one"),
        ({"all": [{"any": [{"all": [{"kind": "tags", "tags": ["a"]}]}]}]}, "all[0].any[0]",
         "one level"),
        ({"all": [{"kind": "tier", "tier_ids": []}]}, "all[0].tier_ids", "Length"),
        ({"all": [{"kind": "total_spent", "min": "abc"}]}, "all[0].min", "valid number"),
        ({"all": [{"kind": "total_spent", "min": "9", "max": "1"}]}, "all[0]", '"min" is more'),
        ({"all": [{"kind": "total_spent", "within_days": 0, "min": "1"}]},
         "all[0].within_days", "greater than or equal to 1"),
        ({"all": [{"kind": "birthday", "months": [13]}]}, "all[0].months.0", "less than"),
        ({"all": [{"kind": "birthday"}]}, "all[0]", "either"),
        ({"all": [{"kind": "consent", "channel": "fax"}]}, "all[0].channel", "one of"),
        ({"all": [{"kind": "attribute", "name": "a'b", "op": "eq", "value": 1}]},
         "all[0].name", "letters"),
        ({"all": [{"kind": "attribute", "name": "a", "op": "gt", "value": True}]},
         "all[0].value", "compares numbers"),
        ({"all": [{"kind": "attribute", "name": "a", "op": "in", "value": ["x", 1]}]},
         "all[0].value", "strings only"),
        ({"all": [{"kind": "tags", "tags": ["a"], "colour": "red"}]}, "all[0].colour", "Unknown"),
        ({"all": [{"kind": "member_since"}]}, "all[0]", '"within_days"'),
    ],
)  # fmt: skip
def test_bad_conditions_answer_422_naming_the_place(api, conditions, path, words):
    response = api.post("/api/v1/segments/preview", json={"conditions": conditions})

    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error"
    messages = error["details"]["conditions"]
    assert path in messages, messages
    assert words in " ".join(messages[path])


def test_a_tier_of_another_merchant_is_refused(api, other_api):
    theirs = other_api.post("/api/v1/tiers", json={"name": "Vàng", "threshold": "5000"}).json
    response = api.post(
        "/api/v1/segments",
        json={"name": "X", "conditions": {"all": [{"kind": "tier", "tier_ids": [theirs["id"]]}]}},
    )
    assert response.status_code == 422
    assert (
        "no tiers with the id"
        in response.json["error"]["details"]["conditions"]["all[0].tier_ids"][0]
    )
    assert api.get("/api/v1/segments").json["data"] == []


class GenderCondition:
    """A plugin that adds a ``gender`` condition kind."""

    __name__ = "gender-condition"

    @hookimpl
    def register_segment_conditions(self, hub):
        from marshmallow import Schema
        from marshmallow import fields
        from marshmallow import validate

        class GenderFields(Schema):
            gender = fields.Str(required=True, validate=validate.OneOf(("female", "male")))

        def compile_(context, data):
            column: Column = Member.gender
            return and_(column.is_not(None), column == data["gender"])

        return [SegmentCondition("gender", "Gender", GenderFields, compile_)]


@pytest.fixture
def hub_plugins():
    return [GenderCondition()]


def test_hook_register_segment_conditions_adds_a_kind_segments_can_use(api, hub, merchant):
    her = add_member(api, gender="female")
    add_member(api, gender="male")
    conditions = {"all": [{"kind": "gender", "gender": "female"}]}

    assert picked(hub, merchant.id, conditions) == {her}
    response = api.post("/api/v1/segments", json={"name": "Nữ", "conditions": conditions})
    assert response.status_code == 201
    assert api.get(f"/api/v1/segments/{response.json['id']}").json["count"] == 1
    bad = api.post("/api/v1/segments/preview", json={"conditions": {"all": [{"kind": "gender"}]}})
    assert bad.status_code == 422
    assert "all[0].gender" in bad.json["error"]["details"]["conditions"]


def test_patch_refuses_bad_conditions_and_a_taken_name_and_changes_nothing(api):
    first = api.post("/api/v1/segments", json={"name": "A", "conditions": VIP_SMS}).json
    api.post("/api/v1/segments", json={"name": "B", "conditions": VIP_SMS})

    bad = api.patch(f"/api/v1/segments/{first['id']}", json={"conditions": {"all": [{}]}})
    assert bad.status_code == 422 and "all[0]" in bad.json["error"]["details"]["conditions"]
    taken = api.patch(f"/api/v1/segments/{first['id']}", json={"name": "B"})
    assert taken.status_code == 409

    again = api.get(f"/api/v1/segments/{first['id']}").json
    assert again["name"] == "A" and again["conditions"] == first["conditions"]
