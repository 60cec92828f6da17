"""``HUB_LOG_FORMAT=json``: one JSON object a line, carrying the request id into jobs."""

from __future__ import annotations

import io
import json
import logging

import pytest

from hub.logs import JsonFormatter
from hub.testing import make_app
from hub.testing import run_jobs


def log_from_a_job(text: str) -> None:
    """A job that logs one line."""
    logging.getLogger("hub.test").warning("job says %s", text)


@pytest.fixture
def json_lines():
    """The JSON handler the app installs, writing into a buffer; removed afterwards."""
    buffer = io.StringIO()
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield buffer
    root.setLevel(level)
    for handler in root.handlers:
        if handler not in before:
            root.removeHandler(handler)


def capture(buffer: io.StringIO) -> None:
    [handler] = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    handler.setStream(buffer)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_every_request_gets_an_id_and_answers_with_it(client):
    given = client.get("/healthz", headers={"X-Request-Id": "shop-42.retry:1"})
    made = client.get("/healthz")
    refused = client.get("/healthz", headers={"X-Request-Id": "two words<script>"})

    assert given.headers["X-Request-Id"] == "shop-42.retry:1"
    assert len(made.headers["X-Request-Id"]) == 32
    assert refused.headers["X-Request-Id"] not in (
        "two words<script>",
        made.headers["X-Request-Id"],
    )


def test_json_logs_are_one_object_a_line_with_the_request_id(json_lines, database_url, tmp_path):
    app = make_app(database_url, config={"HUB_LOG_FORMAT": "json"}, instance_path=tmp_path)
    capture(json_lines)

    with app.test_request_context("/", headers={"X-Request-Id": "req-7"}):
        app.preprocess_request()
        try:
            raise ValueError("a\nmultiline\nproblem")
        except ValueError:
            logging.getLogger("hub.test").exception("it broke for %s", "Lan")

    [entry] = lines(json_lines)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "hub.test"
    assert entry["message"] == "it broke for Lan"
    assert entry["request_id"] == "req-7"
    assert "ValueError: a\nmultiline\nproblem" in entry["exception"]
    assert entry["time"].endswith("+00:00")
    assert json_lines.getvalue().count("\n") == 1


def test_a_job_logs_with_the_id_of_the_request_that_enqueued_it(
    json_lines, database_url, redis_url, redis_prefix, tmp_path
):
    config = {
        "HUB_LOG_FORMAT": "json",
        "HUB_REDIS_URL": redis_url,
        "HUB_REDIS_PREFIX": redis_prefix,
    }
    app = make_app(database_url, config=config, instance_path=tmp_path)
    hub = app.extensions["hub"]
    capture(json_lines)

    with app.test_request_context("/", headers={"X-Request-Id": "req-from-shop"}):
        app.preprocess_request()
        job = hub.jobs.enqueue(f"{__name__}.log_from_a_job", "hello")
    run_jobs(hub)

    assert job.meta["request_id"] == "req-from-shop"
    [entry] = [e for e in lines(json_lines) if e["logger"] == "hub.test"]
    assert entry["message"] == "job says hello"
    assert entry["request_id"] == "req-from-shop"
    assert entry["job_id"] == job.id


def test_text_logs_stay_the_default(json_lines, database_url, tmp_path):
    make_app(database_url, instance_path=tmp_path)

    assert not any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers)
