"""Messaging: automatic messages to members over SMS, Zalo and e-mail, through gateway plugins.

* ``models``: the message log, each merchant's settings, opt-outs;
* ``settings``: the settings document and its checks;
* ``kinds``: what a plugin registers per automatic message (``MessageKind``);
* ``gateways``: what gateway plugins and the pipeline hand each other;
* ``outbox``: ``queue_message``, once per cause;
* ``policy``: consent, opt-outs, quiet hours, caps and budget, right before sending;
* ``advertising``: Vietnam's rules for advertising messages (Decree 91/2020);
* ``delivery``: the send job, retries, fallback, the sweep;
* ``receipts``: the callback URLs gateways report to; ``optouts``: STOP, bounces;
* ``email_text``: an e-mail's subject, parts and unsubscribe link; ``unsubscribe``:
  the page behind the link and its one-click POST (RFC 8058);
* ``secrets``: refreshing a connection's token once under a lock;
* ``audiences``: who periodic kinds write to (birthdays, lapsed, expiring);
* ``templates``, ``variables``, ``sms_text``, ``preview``: what the message says and costs.

Nothing is imported here: ``hub.models`` imports ``hub.messaging.models``
while the core's tables load.
"""
