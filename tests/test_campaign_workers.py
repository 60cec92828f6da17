"""Campaigns sent by real ``hub worker`` processes on Redis: end to end, paused, SIGKILLed.

The gateway is either the eSMS simulator (its real protocol, with receipts
called back to the hub served on loopback) or a test plugin, ``filesms``,
installed into the worker as any plugin is (an entry point in
``hub.plugins``): it appends each message it takes to a file and can stop
on its Nth message, stalled (to be killed there) or waiting for a go.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from campaign_fixtures import WITH_VOUCHER
from simulators.esms import EsmsSimulator
from simulators.fixtures import connect_esms
from simulators.fixtures import move_merchant
from sqlalchemy import select

from hub import utcnow
from hub.campaigns.sweep import STALLED_AFTER
from hub.campaigns.sweep import sweep
from hub.jobs import QUEUES
from hub.messaging.delivery import STALE_AFTER
from hub.messaging.delivery import release_due
from hub.models import Campaign
from hub.models import CampaignRecipient
from hub.testing import ApiClient
from hub.testing import LiveHub
from hub.testing import create_test_merchant
from hub.testing import daytime_zone

FILE_SMS = '''
"""A test gateway: appends each message to a file; may stop on the Nth (stall or wait)."""
import json
import os
import pathlib
import time

from hub import GatewayConnector
from hub import GatewaySettingsSchema
from hub import SendResult
from hub import hookimpl


class FileSms(GatewayConnector):
    name = "filesms"
    title = "File SMS (test)"
    settings_schema = GatewaySettingsSchema
    channels = ("sms",)
    receipts = False

    def send(self, hub, connection, message):
        sent = pathlib.Path(os.environ["CAMPAIGN_SENT"])
        with sent.open("a") as handle:
            handle.write(json.dumps({"to": message.to, "ref": message.reference}) + "\\n")
        count = len(sent.read_text().splitlines())
        mode, _, nth = os.environ.get("CAMPAIGN_STOP", "").partition(":")
        mark = pathlib.Path(os.environ["CAMPAIGN_MARK"])
        if mode and count == int(nth) and not mark.exists():
            mark.write_text(str(os.getpid()))
            go = pathlib.Path(os.environ["CAMPAIGN_GO"])
            while mode == "stall" or not go.exists():
                time.sleep(0.05)
        return SendResult(gateway_message_id="file-" + message.reference, status="delivered")


@hookimpl
def register_connectors(hub):
    return [FileSms()]
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A folder with the test gateway plugin and a distribution naming it in hub.plugins."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "campaign_file_sms.py").write_text(textwrap.dedent(FILE_SMS))
    dist = folder / "campaign_file_sms-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: campaign-file-sms\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[hub.plugins]\nfilesms = campaign_file_sms\n")
    return folder


@pytest.fixture
def hub_plugins(site):
    sys.path.insert(0, str(site))
    try:
        return [importlib.import_module("campaign_file_sms")]
    finally:
        sys.path.remove(str(site))


@pytest.fixture
def files(tmp_path):
    return {"sent": tmp_path / "sent.jsonl", "mark": tmp_path / "mark", "go": tmp_path / "go"}


def worker_env(database_url, redis_url, redis_prefix, site, files, instance, stop=""):
    env = dict(os.environ)
    env.update(
        HUB_DATABASE_URL=database_url,
        HUB_REDIS_URL=redis_url,
        HUB_REDIS_PREFIX=redis_prefix,
        HUB_SECRET_KEY="test-secret-key-not-for-production",
        HUB_INSTANCE_PATH=str(instance),
        HUB_LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        CAMPAIGN_SENT=str(files["sent"]),
        CAMPAIGN_MARK=str(files["mark"]),
        CAMPAIGN_GO=str(files["go"]),
        CAMPAIGN_STOP=stop,
    )
    return env


def start_worker(env, log):
    hub_cli = Path(sys.executable).parent / "hub"
    return subprocess.Popen(
        [str(hub_cli), "worker", "--no-cron"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def lines(files) -> list[str]:
    path = files["sent"]
    return (
        [json.loads(line)["to"] for line in path.read_text().splitlines()] if path.exists() else []
    )


def state_of(hub, campaign_id: int) -> str:
    with hub.db.session() as session:
        return session.get(Campaign, campaign_id).state


def queues_idle(hub) -> bool:
    queue = hub.jobs.queue("messages")
    return queue.count == 0 and queue.started_job_registry.count == 0


def _setup(redis_app, connector: str, members: int, **campaign):
    """A merchant, a gateway connection, VIP members who consented, and a campaign draft."""
    hub = redis_app.extensions["hub"]
    api = ApiClient(redis_app.test_client(), create_test_merchant(hub))
    esms = campaign.pop("esms", None)
    if connector == "esms":
        connection_id = connect_esms(api, esms)
    else:
        connection_id = api.post("/api/v1/connections", json={"connector": connector}).json["id"]
    settings = {
        "channel_order": ["sms"],
        "connections": {"sms": connection_id},
        "quiet_hours": {"enabled": False},
    }
    assert api.put("/api/v1/messaging/settings", json=settings).status_code == 200
    # Advertising SMS go out 07:00-22:00 where the merchant is: put it where that is now
    move_merchant(api, daytime_zone())
    people = []
    for index in range(members):
        body = {
            "phone": f"0912{index:06d}",
            "name": "Nguyễn Thị Lan",
            "tags": ["vip"],
            "consents": {"sms": True},
        }
        people.append(api.post("/api/v1/members", json=body).json)
    segment = api.post(
        "/api/v1/segments",
        json={"name": "VIP", "conditions": {"all": [{"kind": "tags", "tags": ["vip"]}]}},
    ).json
    if campaign.pop("with_voucher", False):
        reward = api.post(
            "/api/v1/rewards",
            json={"name": "Giảm 50k", "kind": "amount_off", "value": "50000", "points_cost": 100},
        ).json
        campaign["reward_id"] = reward["id"]
    body = {
        "name": "Tuần lễ vàng",
        "segment_id": segment["id"],
        "channel": "sms",
        "templates": {"vi": "{shop}: chào {first_name}!"},
        **campaign,
    }
    created = api.post("/api/v1/campaigns", json=body)
    assert created.status_code == 201, created.json
    return hub, api, people, created.json["id"]


def test_a_campaign_end_to_end_with_workers_receipts_a_voucher_order_and_the_control_group(
    redis_app, database_url, redis_url, redis_prefix, site, files, tmp_path
):
    # Given the eSMS simulator, the hub served for its receipts, and a worker pointed at both
    esms = EsmsSimulator()
    server = LiveHub(redis_app)
    instance = tmp_path / "instance"
    instance.mkdir()
    plugins = {"esms": {"base_url": esms.base_url}}
    (instance / "hub.cfg.py").write_text(
        f"HUB_PLUGINS_CONFIG = {plugins!r}\nHUB_ALLOW_PRIVATE_TARGETS = True\n"
        f"HUB_PUBLIC_URL = {server.base_url!r}\n"
    )
    redis_app.extensions["hub"].config["HUB_PUBLIC_URL"] = server.base_url
    log = (tmp_path / "worker.log").open("w")
    worker = None
    try:
        hub, api, people, campaign_id = _setup(
            redis_app,
            "esms",
            30,
            esms=esms,
            holdout_percent=30,
            templates={"vi": WITH_VOUCHER},
            with_voucher=True,
        )
        # When the campaign is scheduled now and a worker sends it
        assert api.post(f"/api/v1/campaigns/{campaign_id}/schedule").json["state"] == "sending"
        env = worker_env(database_url, redis_url, redis_prefix, site, files, instance)
        worker = start_worker(env, log)
        wait_for(lambda: state_of(hub, campaign_id) == "done", 120, "the campaign to be sent")
        # Then every target got one message through eSMS, and the receipts mark them delivered
        with hub.db.session() as session:
            rows = session.execute(select(CampaignRecipient.member_id, CampaignRecipient.group))
            groups = dict(rows.all())
        targets = [p for p in people if groups[p["id"]] == "target"]
        assert sorted(s.phone for s in esms.sent) == sorted("0" + p["phone"][3:] for p in targets)
        assert set(esms.deliver_receipts("5")) == {200}
        figures = api.get(f"/api/v1/campaigns/{campaign_id}/results").json
        assert figures["delivered"] == len(targets)
        # When one recipient buys with the campaign's voucher
        buyer = targets[0]
        code = api.get(f"/api/v1/members/{buyer['id']}/vouchers").json["data"][0]["code"]
        order = api.post(
            "/api/v1/orders",
            json={
                "source": "webshop",
                "external_id": "E2E-1",
                "currency": "VND",
                "subtotal": "400000",
                "total": "400000",
                "financial_status": "paid",
                "placed_at": utcnow().isoformat(),
                "discount_codes": [code],
                "customer": {"phone": buyer["phone"]},
            },
        ).json
        used = api.post("/api/v1/vouchers/use", json={"code": code, "order_id": order["id"]})
        assert used.status_code == 200, used.json
        # Then the results count the voucher, the order and the groups
        figures = api.get(f"/api/v1/campaigns/{campaign_id}/results").json
        assert figures["targeted"] == len(targets)
        assert figures["held_out"] == 30 - len(targets) > 0
        assert figures["vouchers_redeemed"] == 1
        assert figures["groups"]["target"]["orders"] == 1
        assert Decimal(figures["groups"]["target"]["revenue"]) > 0
        assert figures["groups"]["control"]["orders"] == 0
        assert figures["lift"]["measurable"] is True
    finally:
        if worker is not None:
            stop(worker)
        log.close()
        server.close()
        esms.close()


def test_pausing_mid_send_with_a_worker_keeps_what_was_sent_and_resume_sends_the_rest_once(
    redis_app, database_url, redis_url, redis_prefix, site, files, tmp_path
):
    hub, api, people, campaign_id = _setup(redis_app, "filesms", 8)
    env = worker_env(database_url, redis_url, redis_prefix, site, files, tmp_path, stop="wait:3")
    log = (tmp_path / "worker.log").open("w")
    worker = start_worker(env, log)
    try:
        # Given a send under way, its third message at the gateway
        api.post(f"/api/v1/campaigns/{campaign_id}/schedule")
        wait_for(files["mark"].exists, 60, "the third message")
        # When the merchant pauses, and the gateway answers
        assert api.post(f"/api/v1/campaigns/{campaign_id}/pause").json["state"] == "paused"
        files["go"].write_text("go")
        wait_for(lambda: queues_idle(hub), 60, "the worker to stop")
        # Then nothing more went out
        assert len(lines(files)) == 3
        # When the merchant resumes, the rest go, each member once
        assert api.post(f"/api/v1/campaigns/{campaign_id}/resume").json["state"] == "sending"
        wait_for(lambda: state_of(hub, campaign_id) == "done", 60, "the campaign to finish")
    finally:
        stop(worker)
        log.close()
    assert sorted(lines(files)) == sorted(p["phone"] for p in people)


def test_a_worker_killed_mid_send_sends_each_recipient_at_most_once(
    redis_app, database_url, redis_url, redis_prefix, site, files, tmp_path
):
    hub, api, people, campaign_id = _setup(redis_app, "filesms", 10)
    env = worker_env(database_url, redis_url, redis_prefix, site, files, tmp_path, stop="stall:4")
    log = (tmp_path / "worker.log").open("w")
    first = start_worker(env, log)
    try:
        # Given a worker stalled at the gateway on the fourth message (the gateway has it)
        api.post(f"/api/v1/campaigns/{campaign_id}/schedule")
        wait_for(files["mark"].exists, 60, "the fourth message")
        horse = int(files["mark"].read_text())
        # When it and its work horse are SIGKILLed
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.kill(horse, signal.SIGKILL)
    finally:
        stop(first)
    assert len(lines(files)) == 4
    # And rq's maintenance finds the abandoned job (the clock moved past its heartbeat),
    queue = hub.jobs.queue("messages")
    queue.started_job_registry.cleanup(timestamp=time.time() + 3600)
    for name in QUEUES:
        hub.jobs.redis.delete(f"rq:scheduler-lock:{hub.jobs.queue_name(name)}")
    # and the campaigns' sweep finds the send stalled and starts new jobs for it
    later = utcnow() + STALLED_AFTER + timedelta(seconds=1)
    with redis_app.app_context():
        assert sweep(hub, now=later)["restarted"] == 1
    second = start_worker(
        worker_env(database_url, redis_url, redis_prefix, site, files, tmp_path), log
    )
    try:
        wait_for(lambda: state_of(hub, campaign_id) == "done", 60, "the campaign to finish")
        wait_for(lambda: queues_idle(hub), 60, "the worker to finish")
    finally:
        stop(second)
        log.close()
    # Then every member got the message exactly once: the one at the gateway was not resent
    assert sorted(lines(files)) == sorted(p["phone"] for p in people)
    # And the message the dead worker held is marked failed, not sent again
    with redis_app.app_context():
        release_due(hub, now=utcnow() + STALE_AFTER + timedelta(minutes=1))
    figures = api.get(f"/api/v1/campaigns/{campaign_id}/results").json
    assert (figures["sent"], figures["failed"], figures["pending"]) == (9, 1, 0)
    assert len(lines(files)) == 10
