"""Console users for tests: made through the staff services, signed in through the pages."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from hub.merchants.staff import create_staff_user
from hub.merchants.staff import issue_link
from hub.merchants.staff import password_hasher
from hub.merchants.staff import use_link

PASSWORD = "correct horse battery"


@dataclass
class Staff:
    id: int
    email: str
    merchant_id: int


def make_staff(
    hub, merchant_id: int, role: str, email: str | None = None, name: str | None = None
) -> Staff:
    email = email or f"{role}-{merchant_id}@shop.example"
    with hub.db.transaction() as session:
        user = create_staff_user(
            session, merchant_id, email, role, name=name or role.title(), actor="test"
        )
        token = issue_link(session, user, "invite")
        use_link(session, token, PASSWORD, hasher=password_hasher(hub.config))
        return Staff(user.id, user.email, merchant_id)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, email: str, password: str = PASSWORD):
    page = client.get("/console/sign-in")
    token = csrf_of(page.get_data(as_text=True))
    return client.post(
        "/console/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )


def open_sign_in_page(page, base_url: str, locale: str) -> None:
    """Open the console's sign-in page in Chromium and switch it to ``locale``'s language."""
    page.goto(f"{base_url}/console/sign-in")
    page.get_by_role("button", name="English" if locale == "en" else "Tiếng Việt").click()


def sign_in_page(page, base_url: str, email: str, locale: str) -> None:
    """Sign in through the console's page in Chromium, in ``locale``'s language."""
    open_sign_in_page(page, base_url, locale)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form.stack button").click()
    page.wait_for_load_state()


def csrf(client, path: str = "/console/") -> str:
    """The CSRF token of the signed-in browser, read from a page it can open."""
    page = client.get(path, follow_redirects=True)
    return csrf_of(page.get_data(as_text=True))


@pytest.fixture
def manager(client, hub, merchant):
    """A manager of the test merchant, signed in on ``client``."""
    person = make_staff(hub, merchant.id, "manager")
    assert sign_in(client, person.email).status_code == 302
    return person
