"""Messaging: automatic messages to members over SMS and Zalo, through gateway plugins.

* ``models``: the message log, each merchant's settings, opt-outs;
* ``settings``: the settings document and its checks;
* ``kinds``: what a plugin registers per automatic message (``MessageKind``);
* ``gateways``: what gateway plugins and the pipeline hand each other;
* ``outbox``: ``queue_message``, once per cause;
* ``policy``: consent, opt-outs, quiet hours, caps and budget, right before sending;
* ``delivery``: the send job, retries, fallback, the sweep;
* ``receipts``: the callback URLs gateways report to; ``optouts``: STOP;
* ``secrets``: refreshing a connection's token once under a lock;
* ``audiences``: who periodic kinds write to (birthdays, lapsed, expiring);
* ``templates``, ``variables``, ``sms_text``, ``preview``: what the message says and costs.

Nothing is imported here: ``hub.models`` imports ``hub.messaging.models``
while the core's tables load.
"""
