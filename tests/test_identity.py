"""The built-in identity rule: phone in E.164, then email, then the connection's customer id."""

from hub import Customer
from hub import hookimpl
from hub.models import Member


def resolve(hub, merchant_id, customer, connection_id=None):
    with hub.db.transaction() as session:
        member = hub.pm.hook.member_for_customer(
            hub=hub,
            session=session,
            merchant_id=merchant_id,
            connection_id=connection_id,
            customer=customer,
        )
        return member.id if member else None


def test_hook_member_for_customer_matches_phone_in_any_spelling(hub, merchant, member):
    found = resolve(hub, merchant.id, Customer(phone="+84 912-345-678"))
    assert found == member["id"]


def test_hook_member_for_customer_falls_back_to_email(hub, merchant, member):
    found = resolve(hub, merchant.id, Customer(phone="0999999999", email="LAN@example.vn"))
    assert found == member["id"]


def test_hook_member_for_customer_creates_a_member_with_consents(hub, merchant):
    customer = Customer(phone="0987654321", name="Minh", accepts_marketing={"sms": True})
    member_id = resolve(hub, merchant.id, customer)
    with hub.db.session() as session:
        row = session.get(Member, member_id)
        assert (row.phone, row.name) == ("+84987654321", "Minh")


def test_hook_member_for_customer_gives_none_without_phone_or_email(hub, merchant):
    assert resolve(hub, merchant.id, Customer(name="Guest")) is None


def test_hook_member_for_customer_can_be_overridden_by_a_plugin(hub, merchant, member):
    class VipDesk:
        @hookimpl(tryfirst=True)
        def member_for_customer(self, session, merchant_id, customer):
            if customer.name == "desk":
                return session.get(Member, member["id"])
            return None

    hub.pm.register(VipDesk(), name="vip-desk")
    assert resolve(hub, merchant.id, Customer(name="desk")) == member["id"]
    assert resolve(hub, merchant.id, Customer(name="Guest")) is None


def test_members_of_other_merchants_are_never_matched(hub, merchant, other_merchant, member):
    found = resolve(hub, other_merchant.id, Customer(phone="0912345678"))
    assert found is not None and found != member["id"]
