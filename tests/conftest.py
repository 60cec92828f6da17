"""The hub's own tests use the fixtures hub.testing gives every plugin author."""

import pytest
import scheduling
import url_builders
from browser_support import browser  # noqa: F401 - the session's headless Chromium
from console_support import manager  # noqa: F401 - a signed-in console manager

from hub.testing import ApiClient  # noqa: F401 - re-exported for tests

url_builders.install()


def pytest_configure(config):
    config.pluginmanager.register(scheduling.LongTestsFirst(), "long-tests-first")


def pytest_collection_modifyitems(items):
    # Before ``-m`` deselects: each lane of scripts/test runs a db_agnostic test only once.
    scheduling.mark_tests_without_a_database(items)
    scheduling.check_lane_marks(items)


@pytest.fixture
def member(api):
    """A member of the test merchant, created through the API."""
    response = api.post(
        "/api/v1/members",
        json={"phone": "0912345678", "email": "lan@example.vn", "name": "Nguyễn Thị Lan"},
    )
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def merchant_factory():
    """Make a merchant with a key on a given hub (for apps other than the default one)."""
    from hub.testing import create_test_merchant

    return create_test_merchant
