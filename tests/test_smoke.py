def test_member_round_trip(api, member):
    response = api.get(f"/api/v1/members/{member['id']}")
    assert response.status_code == 200
    assert response.json["phone"] == "+84912345678"
