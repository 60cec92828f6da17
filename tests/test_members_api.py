"""Members through the REST API: create, read, update, search, erase, consents, identities."""

from datetime import UTC
from datetime import date
from datetime import datetime

from hub import latest_today


def create(api, **fields):
    return api.post("/api/v1/members", json=fields)


def test_member_is_created_with_phone_in_e164_and_a_member_code(api):
    response = create(api, phone="0161 2345678", email=" Lan@Example.VN ", name="Lan")

    assert response.status_code == 201
    body = response.json
    assert body["phone"] == "+84312345678"
    assert body["email"] == "lan@example.vn"
    assert len(body["code"]) == 8
    assert body["status"] == "active"


def test_member_profile_keeps_birthday_gender_address_tags_and_consents(api):
    response = create(
        api,
        phone="0987654321",
        name="Trần Văn Minh",
        birthday="1990-05-02",
        gender="male",
        province="Hồ Chí Minh",
        district="Quận 1",
        ward="Phường Bến Nghé",
        address="12 Lê Lợi",
        tags=["vip", "  hcm ", "vip"],
        consents={"sms": True, "zalo": False},
    )

    body = response.json
    assert response.status_code == 201, body
    assert body["birthday"] == "1990-05-02"
    assert (body["province"], body["district"], body["ward"]) == (
        "Hồ Chí Minh",
        "Quận 1",
        "Phường Bến Nghé",
    )
    assert body["tags"] == ["hcm", "vip"]
    assert body["consents"]["sms"]["granted"] is True
    assert body["consents"]["zalo"]["granted"] is False
    assert body["consents"]["sms"]["source"] == "api"
    assert body["consents"]["sms"]["changed_at"].endswith("+00:00")


def test_phone_is_unique_per_merchant_whatever_its_spelling(api):
    assert create(api, phone="0912345678").status_code == 201

    response = create(api, phone="+84 912 345 678")

    assert response.status_code == 409
    assert response.json["error"]["code"] == "duplicate_phone"
    assert "phone" in response.json["error"]["details"]


def test_email_is_unique_per_merchant_case_insensitively(api):
    assert create(api, email="lan@example.vn").status_code == 201
    response = create(api, email="LAN@example.vn")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "duplicate_email"


def test_the_same_phone_may_belong_to_members_of_two_merchants(api, other_api):
    assert create(api, phone="0912345678").status_code == 201
    assert create(other_api, phone="0912345678").status_code == 201


def test_update_changes_only_the_fields_given(api, member):
    response = api.patch(f"/api/v1/members/{member['id']}", json={"name": "Lan Nguyễn"})

    assert response.status_code == 200
    assert response.json["name"] == "Lan Nguyễn"
    assert response.json["phone"] == member["phone"]
    assert response.json["email"] == member["email"]


def test_update_to_another_members_phone_is_refused(api, member):
    other = create(api, phone="0987654321").json
    response = api.patch(f"/api/v1/members/{other['id']}", json={"phone": "0912345678"})
    assert response.status_code == 409
    assert api.get(f"/api/v1/members/{other['id']}").json["phone"] == "+84987654321"


def test_consent_change_records_time_and_source(api, member):
    api.patch(f"/api/v1/members/{member['id']}", json={"consents": {"email": True}})
    first = api.get(f"/api/v1/members/{member['id']}").json["consents"]["email"]

    api.patch(f"/api/v1/members/{member['id']}", json={"consents": {"email": False}})
    second = api.get(f"/api/v1/members/{member['id']}").json["consents"]["email"]

    assert first["granted"] is True and second["granted"] is False
    assert second["changed_at"] >= first["changed_at"]


def test_search_finds_members_by_text_phone_email_and_tag(api):
    lan = create(api, phone="0912345678", name="Nguyễn Thị Lan", tags=["vip"]).json
    minh = create(api, phone="0987654321", name="Trần Minh", email="minh@example.vn").json

    def ids(**params):
        response = api.get("/api/v1/members", query_string=params)
        assert response.status_code == 200, response.json
        return [m["id"] for m in response.json["data"]]

    assert ids(q="lan") == [lan["id"]]
    assert ids(phone="0987 654 321") == [minh["id"]]
    assert ids(email="MINH@example.vn") == [minh["id"]]
    assert ids(tag="vip") == [lan["id"]]
    assert ids(q=lan["code"]) == [lan["id"]]
    assert sorted(ids()) == sorted([lan["id"], minh["id"]])


def test_members_list_pages_with_a_cursor(api):
    created = [create(api, phone=f"09123456{i:02d}").json["id"] for i in range(5)]

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = api.get("/api/v1/members", query_string=params).json
        seen += [m["id"] for m in body["data"]]
        cursor = body["next_cursor"]
        if not cursor:
            break

    assert seen == created


def test_a_made_up_cursor_is_a_clear_422(api):
    response = api.get("/api/v1/members", query_string={"cursor": "!!!"})
    assert response.status_code == 422
    assert response.json["error"]["details"] == {"cursor": ["invalid cursor"]}


def test_delete_erases_personal_data_and_frees_the_phone(api, member, hub):
    response = api.delete(f"/api/v1/members/{member['id']}")

    assert response.status_code == 204
    assert api.get(f"/api/v1/members/{member['id']}").status_code == 404
    from hub.models import Member

    with hub.db.session() as session:
        row = session.get(Member, member["id"])
        assert (row.phone, row.email, row.name, row.status) == (None, None, "", "erased")
    assert create(api, phone=member["phone"]).status_code == 201


def test_identity_links_a_member_to_a_connection_customer(api, member):
    connection = api.post("/api/v1/connections", json={"connector": "api", "name": "web"}).json

    response = api.post(
        f"/api/v1/members/{member['id']}/identities",
        json={"connection_id": connection["id"], "external_id": "cus_42"},
    )

    assert response.status_code == 201
    identities = api.get(f"/api/v1/members/{member['id']}").json["identities"]
    assert identities == [{"connection_id": connection["id"], "external_id": "cus_42"}]


def test_one_connection_customer_cannot_belong_to_two_members(api, member):
    connection = api.post("/api/v1/connections", json={"connector": "api"}).json
    other = create(api, phone="0987654321").json
    body = {"connection_id": connection["id"], "external_id": "cus_42"}
    api.post(f"/api/v1/members/{member['id']}/identities", json=body)

    response = api.post(f"/api/v1/members/{other['id']}/identities", json=body)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "identity_taken"


def test_member_events_are_emitted_after_commit(api, recorded_events):
    member = create(api, phone="0912345678").json
    api.patch(f"/api/v1/members/{member['id']}", json={"name": "Lan"})
    api.delete(f"/api/v1/members/{member['id']}")

    assert recorded_events.types() == ["member.created", "member.updated", "member.deleted"]
    assert recorded_events.events[1].data == {"member_id": member["id"], "fields": ["name"]}


def test_a_refused_change_emits_no_event(api, member, recorded_events):
    create(api, phone=member["phone"])
    assert recorded_events.types() == []


# A moment (years from now, so the machine's own date cannot decide) when it is still
# 1 June in Vietnam (19:00) but already 2 June at UTC+14.
EVENING_IN_VIETNAM = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def test_a_birthday_that_is_today_somewhere_is_accepted(api, monkeypatch):
    monkeypatch.setattr("hub.db.utcnow", lambda: EVENING_IN_VIETNAM)
    assert latest_today() == date(2030, 6, 2)

    response = create(api, phone="0912345678", birthday="2030-06-02")

    assert response.status_code == 201, response.json
    assert response.json["birthday"] == "2030-06-02"


def test_a_birthday_in_the_future_everywhere_is_a_clear_422(api, monkeypatch):
    monkeypatch.setattr("hub.db.utcnow", lambda: EVENING_IN_VIETNAM)

    response = create(api, phone="0912345678", birthday="2030-06-03")

    assert response.status_code == 422
    assert response.json["error"]["details"] == {"birthday": ["in the future"]}
