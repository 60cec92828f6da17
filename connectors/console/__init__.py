"""The console gateway: messages are written to the log (and a file), never sent."""
