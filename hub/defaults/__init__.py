"""The core's own behaviour, written as ordinary plugins with ``trylast`` hooks."""
