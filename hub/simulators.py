"""Serve a platform simulator's WSGI app on loopback, in a thread or in the foreground.

Every store simulator (Shopify, Haravan, KiotViet, a third platform) is a WSGI app that
speaks the platform's real protocol; this is the one place that puts such an app on a
port. ``start`` picks a free port when given 0 and answers the base URL.
"""

from __future__ import annotations

import threading
from typing import Any
from typing import Self

from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server


class LoopbackServer:
    """A WSGI app served on ``host:port`` by a threaded server.

    While started, ``url`` is the base URL (``http://127.0.0.1:PORT``) and ``port`` the
    bound port; ``stop`` closes the socket and may be called any number of times.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.server: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None
        self.url = ""
        self.port = 0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; answer the base URL."""
        self.server = make_server(host, port, self.app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def serve_forever(self, host: str, port: int) -> None:
        """Serve in the calling thread until interrupted (``hub simulate NAME``)."""
        self.port = port
        self.url = f"http://{host}:{port}"
        make_server(host, port, self.app, threaded=True).serve_forever()
