"""The ``console`` gateway, for development: every message is "delivered" to a log line.

Its one setting, ``path``, names a file each message is appended to as a
JSON line. Nothing leaves the machine and nothing costs anything, so a
merchant can try automatic messages before connecting a real gateway.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from decimal import Decimal
from pathlib import Path

from hub import ConnectorInfo
from hub import Gateway
from hub import SendResult
from hub import hookimpl
from hub import utcnow

NAME = "console"
log = logging.getLogger(__name__)
_write_lock = threading.Lock()


@hookimpl
def register_connectors(hub):
    return [
        ConnectorInfo(
            name=NAME,
            title="Console (development)",
            kind="messaging",
            description="Writes each message to the log (and to settings.path); sends nothing.",
        )
    ]


@hookimpl
def register_gateways(hub):
    return [Gateway(connector=NAME, channels=("sms", "zalo"), title="Console", receipts=False)]


@hookimpl
def send_message(hub, connection, message):
    if connection.connector != NAME:
        return None
    gateway_id = f"console-{uuid.uuid4().hex[:16]}"
    line = {
        "at": utcnow().isoformat(),
        "id": gateway_id,
        "reference": message.reference,
        "channel": message.channel,
        "to": message.to,
        "text": message.text,
        "segments": message.segments,
        "template_id": message.template_id,
        "template_data": message.template_data,
    }
    log.info("console %s to %s: %s", message.channel, message.to, message.text)
    path = (connection.settings or {}).get("path")
    if path:
        with _write_lock, Path(path).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    return SendResult(gateway_message_id=gateway_id, status="delivered", cost=Decimal(0))
