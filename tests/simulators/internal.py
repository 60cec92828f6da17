"""A service inside the server's network that must never hear from the hub.

It listens on loopback, counts every request whatever its method, and answers
200 with an empty JSON object, or a redirect to ``redirect_to``. A test points
a merchant's settings (or a redirect) at it and then asserts ``count == 0``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any


class InternalService:
    def __init__(self, *, redirect_to: str | None = None, body: bytes = b"{}") -> None:
        self.paths: list[str] = []
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with service.lock:
                    service.paths.append(f"{self.command} {self.path}")
                if redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def count(self) -> int:
        """How many requests reached the service."""
        with self.lock:
            return len(self.paths)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> InternalService:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
