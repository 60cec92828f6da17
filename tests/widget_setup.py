"""A storefront set up for widget tests: a connection, a member with points, tiers, rewards."""

from dataclasses import dataclass

STORE_ORIGIN = "http://127.0.0.1:8765"


@dataclass
class Storefront:
    connection_id: int
    widget_secret: str
    member_id: int
    customer_id: str
    reward_ids: list


def set_up_storefront(api, hub, *, points=1500, origin=STORE_ORIGIN):
    connection = api.post(
        "/api/v1/connections",
        json={
            "connector": "api",
            "name": "Trà Sen storefront",
            "settings": {
                "storefront_origins": [origin],
                "join_url": f"{origin}/account/register",
                "sign_in_url": f"{origin}/account/login",
                "referral_url": f"{origin}/?ref={{code}}",
            },
        },
    ).json
    secret = api.post(f"/api/v1/connections/{connection['id']}/widget-secret").json
    member = api.post(
        "/api/v1/members", json={"phone": "0912345678", "name": "Lan", "email": "lan@example.vn"}
    ).json
    api.post(
        f"/api/v1/members/{member['id']}/identities",
        json={"connection_id": connection["id"], "external_id": "cust-1"},
    )
    for name, threshold in (("Đồng", "0"), ("Bạc", "1000"), ("Vàng", "5000")):
        response = api.post(
            "/api/v1/tiers",
            json={"name": name, "threshold": threshold, "basis": "points", "window": "lifetime"},
        )
        assert response.status_code == 201, response.json
    rewards = [
        api.post(
            "/api/v1/rewards",
            json={
                "name": "Giảm 50.000đ",
                "kind": "amount_off",
                "value": "50000",
                "points_cost": 1000,
                "validity_days": 30,
            },
        ).json["id"],
        api.post(
            "/api/v1/rewards",
            json={
                "name": "Giảm 200.000đ",
                "kind": "amount_off",
                "value": "200000",
                "points_cost": 5000,
            },
        ).json["id"],
    ]
    if points:
        # A paid order earns the points (1 point per 1,000 VND) and lifts the tier.
        order = api.post(
            "/api/v1/orders",
            json={
                "source": "setup",
                "external_id": "W-1",
                "subtotal": str(points * 1000),
                "total": str(points * 1000),
                "financial_status": "paid",
                "placed_at": "2026-11-01T10:00:00+07:00",
                "paid_at": "2026-11-01T10:00:00+07:00",
                "customer": {"phone": "0912345678"},
            },
        )
        assert order.status_code == 201, order.json
    return Storefront(
        connection_id=connection["id"],
        widget_secret=secret["widget_secret"],
        member_id=member["id"],
        customer_id="cust-1",
        reward_ids=rewards,
    )
