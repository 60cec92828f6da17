"""hub demo: a complete demo shop, made through the real services, once."""

import re

from sqlalchemy import func
from sqlalchemy import select

from hub.demo import DEMO_SHOP
from hub.demo import bp
from hub.models import Connection
from hub.models import Member
from hub.models import Merchant
from hub.models import Order


def test_demo_creates_a_shop_with_tiers_rewards_members_and_orders(runner, hub, app):
    result = runner.invoke(args=["demo", "--members", "12", "--no-serve"])

    assert result.exit_code == 0, result.output
    assert "Storefront as a member:  http://127.0.0.1:8000/demo/store?customer=demo-1" in (
        result.output
    )
    key = re.search(r"API key \(shown once\): (\S+)", result.output).group(1)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    tiers = client.get("/api/v1/tiers", headers=headers).json["data"]
    assert [t["name"] for t in tiers] == ["Đồng", "Bạc", "Vàng", "Kim Cương"]
    rewards = client.get("/api/v1/rewards", headers=headers).json["data"]
    assert len(rewards) == 5
    with hub.db.session() as session:
        merchant = session.scalars(select(Merchant).where(Merchant.name == DEMO_SHOP)).one()
        members = session.scalar(
            select(func.count()).select_from(Member).where(Member.merchant_id == merchant.id)
        )
        orders = session.scalar(
            select(func.count()).select_from(Order).where(Order.merchant_id == merchant.id)
        )
        earned = session.scalar(
            select(func.sum(Member.points_balance)).where(Member.merchant_id == merchant.id)
        )
    assert members == 12
    assert orders >= 12
    assert earned > 0


def urls(output: str) -> list[str]:
    return [line for line in output.splitlines() if "http://" in line and "/link/" not in line]


def test_running_the_demo_again_changes_nothing_and_prints_the_same_urls_and_a_way_in(
    runner, hub, client
):
    first = runner.invoke(args=["demo", "--members", "5", "--no-serve"])
    again = runner.invoke(args=["demo", "--members", "5", "--no-serve"])
    assert again.exit_code == 0, again.output
    assert "already there" not in again.output
    assert "earlier run" in again.output
    assert "API key (shown once)" in first.output and "API key (shown once)" not in again.output
    assert "hub api-keys create --merchant" in again.output
    assert urls(again.output) == urls(first.output) and len(urls(first.output)) >= 5
    links = [re.search(r"/console/link/(\S+)", out.output).group(1) for out in (first, again)]
    assert links[0] != links[1]
    # The new run's link opens the console (the way in), not only the first run's.
    assert client.get(f"/console/link/{links[1]}").status_code == 200
    assert "Till key:" in again.output
    with hub.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 5


def test_demo_storefront_embeds_the_widget_with_a_signed_token(runner, app, client):
    assert runner.invoke(args=["demo", "--members", "3", "--no-serve"]).exit_code == 0
    app.register_blueprint(bp)

    guest = client.get("/demo/store").get_data(as_text=True)
    member = client.get("/demo/store?customer=demo-1").get_data(as_text=True)

    assert 'src="/widget/v1/loader.js"' in guest and 'data-token=""' in guest
    token = re.search(r'data-token="([^"]+)"', member).group(1)
    connection = re.search(r'data-connection="(\d+)"', member).group(1)
    state = client.get(
        f"/widget/v1/c/{connection}/state", headers={"Authorization": f"Bearer {token}"}
    ).json
    assert state["member"]["points"]["available"] > 0
    assert state["shop"] == DEMO_SHOP


def test_demo_prints_the_cashier_page_and_a_till_key_that_opens_it(runner, app, hub):
    first = runner.invoke(args=["demo", "--members", "2", "--no-serve"])
    assert "Cashier page:            http://127.0.0.1:8000/pos/cashier" in first.output
    old_key = re.search(r"Till key: +(\S+)", first.output).group(1)
    again = runner.invoke(args=["demo", "--members", "2", "--no-serve"])
    new_key = re.search(r"Till key: +(\S+)", again.output).group(1)
    assert new_key != old_key

    client = app.test_client()
    lookup = {"Authorization": f"Bearer {new_key}"}
    assert client.get("/pos/v1/me", headers=lookup).status_code == 200
    revoked = {"Authorization": f"Bearer {old_key}"}
    assert client.get("/pos/v1/me", headers=revoked).status_code == 401
    with hub.db.session() as session:
        counters = session.scalars(select(Connection).where(Connection.connector == "pos")).all()
    assert len(counters) == 1
