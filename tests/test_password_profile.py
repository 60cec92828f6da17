"""Staff passwords: the argon2 cost follows HUB_PASSWORD_HASH_PROFILE."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters
from console_support import make_staff

from hub.merchants.staff import check_password
from hub.merchants.staff import password_hasher
from hub.merchants.staff import set_password
from hub.models import StaffUser
from hub.testing import make_app


def _stored_hash(hub, user_id: int, password: str, profile: str) -> str:
    hasher = password_hasher({"HUB_PASSWORD_HASH_PROFILE": profile})
    with hub.db.transaction() as session:
        set_password(session, session.get(StaffUser, user_id), password, hasher=hasher)
    with hub.db.session() as session:
        return session.get(StaffUser, user_id).password_hash


def test_the_default_profile_hashes_at_rfc_9106_low_memory_cost(hub, merchant):
    owner = make_staff(hub, merchant.id, "owner")
    stored = extract_parameters(_stored_hash(hub, owner.id, "a long password!", "default"))
    assert (stored.time_cost, stored.memory_cost, stored.parallelism) == (3, 65536, 4)


def test_the_test_profile_hashes_cheaply_and_still_checks_the_password(hub, merchant):
    owner = make_staff(hub, merchant.id, "owner")
    stored = extract_parameters(_stored_hash(hub, owner.id, "a long password!", "test"))
    assert (stored.time_cost, stored.memory_cost) == (1, 8)
    hasher = password_hasher(hub.config)
    with hub.db.transaction() as session:
        assert check_password(session, owner.email, "a long password!", hasher=hasher)
        assert check_password(session, owner.email, "the wrong one!!", hasher=hasher) is None


def test_the_test_app_uses_the_test_profile(hub):
    assert hub.config["HUB_PASSWORD_HASH_PROFILE"] == "test"


def test_an_unknown_profile_fails_at_boot_naming_the_setting(database_url, tmp_path):
    with pytest.raises(ValueError, match=r"HUB_PASSWORD_HASH_PROFILE='fast'.*default or test"):
        make_app(database_url, config={"HUB_PASSWORD_HASH_PROFILE": "fast"}, instance_path=tmp_path)
