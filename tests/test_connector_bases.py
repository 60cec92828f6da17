"""What the gateway base and the store-connector base answer for every connector built on them.

The connectors' own tests (tests/test_gateway_*.py, tests/test_shopify_*.py,
tests/test_haravan_end_to_end.py) exercise these through real sends, callbacks and
installs; these say what each shared piece promises on its own.
"""

from __future__ import annotations

import os
from datetime import UTC
from datetime import datetime

import pytest

from connectors.haravan.plugin import HARAVAN
from connectors.haravan.web import WEB as HARAVAN_WEB
from connectors.shopify.plugin import SHOPIFY
from hub import Connection
from hub import GatewayCallback
from hub import GatewayConnector
from hub import PermanentError
from hub import RetryLater
from hub import StoreWeb

pytestmark = pytest.mark.db_agnostic


class PaperGateway(GatewayConnector):
    name = "paper"
    title = "Paper"


def callback(body: bytes) -> GatewayCallback:
    return GatewayCallback(
        endpoint="receipts",
        method="POST",
        url="https://hub.example/cb",
        received_url="https://hub.example/cb",
        headers={},
        args={},
        form={},
        body=body,
    )


def test_a_missing_setting_is_a_permanent_failure_naming_each_setting_and_the_fix():
    connection = Connection(id=7, settings={"host": "smtp.example.vn"})
    with pytest.raises(PermanentError) as refused:
        PaperGateway().required_settings(connection, "host", "from_email", "port")
    message = str(refused.value)
    assert "connection 7 (Paper) needs settings.from_email and settings.port" in message
    assert "settings.host" not in message
    assert "PATCH /api/v1/connections/7" in message


def test_present_settings_are_answered_whole():
    connection = Connection(id=7, settings={"host": "smtp.example.vn", "port": 587})
    settings = PaperGateway().required_settings(connection, "host")
    assert settings == {"host": "smtp.example.vn", "port": 587}


@pytest.mark.parametrize(
    ("status", "kind"),
    [(429, RetryLater), (500, RetryLater), (503, RetryLater), (400, PermanentError),
     (401, PermanentError), (404, PermanentError)],
)  # fmt: skip
def test_an_http_refusal_is_transient_only_for_429_and_5xx(status, kind):
    refusal = PaperGateway().http_refusal(status, f"Paper HTTP {status}")
    assert type(refusal) is kind
    assert str(refusal) == f"Paper HTTP {status}"


def test_a_reported_time_is_read_as_seconds_or_milliseconds_in_utc():
    at = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    seconds = int(at.timestamp())
    assert PaperGateway.moment(seconds) == at
    assert PaperGateway.moment(str(seconds)) == at
    assert PaperGateway.moment(seconds * 1000, millis=True) == at


@pytest.mark.parametrize("raw", [None, "", "soon", [], 10**30])
def test_an_unreadable_time_is_none(raw):
    assert PaperGateway.moment(raw) is None


@pytest.mark.parametrize(
    ("body", "read"),
    [(b'{"a": 1}', {"a": 1}), (b"[1, 2]", [1, 2]), (b"", None), (b"not json", None),
     (b"\xff\xfe", None)],
)  # fmt: skip
def test_a_callback_body_is_read_as_json_or_none(body, read):
    assert callback(body).json() == read


def test_a_store_connector_answers_its_reconcile_job_migrations_and_jobs_from_its_package():
    [job] = SHOPIFY.periodic_jobs()
    assert (job.name, job.func, job.interval) == (
        "shopify.reconcile",
        "connectors.shopify.sync.reconcile_all",
        SHOPIFY.reconcile_every,
    )
    [folder] = HARAVAN.migrations()
    assert folder.endswith(os.path.join("connectors", "haravan", "migrations"))
    assert os.path.isdir(folder)
    assert HARAVAN_WEB.job("setup") == "connectors.haravan.setup.setup_connection"
    assert HARAVAN_WEB.job("backfill") == "connectors.haravan.sync.backfill_job"


def test_a_store_web_names_its_own_jobs_over_the_package_s():
    web = StoreWeb(
        HARAVAN,
        credentials=("client_id", "client_secret"),
        private_app="a token",
        jobs={"setup": "elsewhere.setup"},
    )
    assert web.job("setup") == "elsewhere.setup"
    assert web.job("backfill") == "connectors.haravan.sync.backfill_job"
