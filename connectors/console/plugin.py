"""The ``console`` gateway, for development: every message is "delivered" to a log line.

When the operator sets ``HUB_PLUGINS_CONFIG["console"]["directory"]``, each
message is also appended as a JSON line to ``merchant-<id>.jsonl`` in that
folder. The file name is the hub's, never the merchant's: a merchant who
could name a file could append to the hub's own configuration. Nothing
leaves the machine, so a merchant can try automatic messages and campaigns
before connecting a real gateway; a ``price`` set on the connection is what
each SMS part counts for, in estimates, results and budgets alike.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from pathlib import Path

from connectors.console.settings import ConsoleSettingsSchema
from hub import GatewayConnector
from hub import SendResult
from hub import hookimpl
from hub import utcnow

NAME = "console"
log = logging.getLogger(__name__)
_write_lock = threading.Lock()


def message_file(hub, merchant_id: int) -> Path | None:
    """The file the merchant's messages are appended to, in the operator's folder, or None."""
    directory = hub.plugin_config(NAME).get("directory")
    if not directory:
        return None
    return Path(directory) / f"merchant-{int(merchant_id)}.jsonl"


class ConsoleGateway(GatewayConnector):
    """Writes each message to the log; nothing leaves the machine."""

    name = NAME
    title = "Console (development)"
    description = "Writes each message to the log (and to a folder the operator chose)."
    settings_schema = ConsoleSettingsSchema
    channels = ("sms", "zalo")
    receipts = False

    def send(self, hub, connection, message):
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
        path = message_file(hub, connection.merchant_id)
        if path is not None:
            with _write_lock:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        # No cost of its own: the hub counts the connection's price, as for a gateway that
        # does not report one, so a rehearsal's results and budget read as a real send's.
        return SendResult(gateway_message_id=gateway_id, status="delivered")


@hookimpl
def register_connectors(hub):
    return [ConsoleGateway()]
