"""Built-in identity matching: phone, then email, then the connection's customer id."""

from __future__ import annotations

from hub.errors import HubError
from hub.markers import hookimpl
from hub.members.directory import add_identity
from hub.members.directory import create_member
from hub.members.directory import find_member
from hub.members.directory import member_by_identity
from hub.phones import normalize_email
from hub.phones import phone_or_none


@hookimpl(trylast=True)
def member_for_customer(hub, session, merchant_id, connection_id, customer):
    """Match or create the member; a customer with no phone, email or id gets none."""
    region = hub.config["HUB_DEFAULT_REGION"]
    phone = phone_or_none(customer.phone, region)
    email = _quietly(normalize_email, customer.email)
    member = find_member(session, merchant_id, phone=phone) if phone else None
    if member is None and email:
        member = find_member(session, merchant_id, email=email)
    if member is None and connection_id and customer.external_id:
        member = member_by_identity(session, connection_id, customer.external_id)
    if member is None:
        if not (phone or email):
            return None
        data = {
            "phone": phone,
            "email": email,
            "name": customer.name,
            "birthday": customer.birthday,
            "gender": customer.gender,
            "consents": dict(customer.accepts_marketing),
        }
        if customer.address:
            data.update(
                province=customer.address.province,
                district=customer.address.district,
                ward=customer.address.ward,
                address=customer.address.line,
            )
        member = create_member(
            session, merchant_id, data, source="connection", region=region, or_theirs=True
        )
    linked = connection_id and customer.external_id
    if linked and member_by_identity(session, connection_id, customer.external_id) is None:
        add_identity(session, member, connection_id, customer.external_id)
    return member


def _quietly(normalize, value, *args):
    """A store's bad phone or email should not stop its order from being recorded."""
    try:
        return normalize(value, *args)
    except HubError:
        return None
