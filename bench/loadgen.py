"""Load generation and server control for benchmarks, on loopback only, bounded in time.

``closed_loop`` saturates a URL (wrk when installed, threads otherwise) and
reports requests per second; ``open_loop`` sends a fixed rate and reports the
latency percentiles measured from each request's scheduled start, so a slow
answer also counts the waiting it caused (no coordinated omission).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

Headers = Callable[[int], dict[str, str]]


@dataclass
class Result:
    requests: int
    seconds: float
    errors: int
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def _request(url: str, headers: dict[str, str], method: str = "GET", body: bytes | None = None):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(
            method,
            parts.path + (f"?{parts.query}" if parts.query else ""),
            body=body,
            headers=headers,
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def closed_loop(
    url: str,
    headers: Headers,
    *,
    seconds: float = 10,
    concurrency: int = 16,
    lua: str | None = None,
) -> Result:
    """Send as fast as answers come back; wrk when available (it costs the CPU far less)."""
    if shutil.which("wrk") and lua is not None:
        return _wrk(url, seconds=seconds, concurrency=concurrency, lua=lua)
    stop = time.monotonic() + seconds
    counts = {"ok": 0, "errors": 0}
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        i = n
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                status = _request(url, headers(i))
            except OSError:
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                counts["ok" if 200 <= status < 400 else "errors"] += 1
                latencies.append(elapsed)
            i += concurrency

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Result(counts["ok"], time.monotonic() - started, counts["errors"], latencies)


def _wrk(url: str, *, seconds: float, concurrency: int, lua: str) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(concurrency),
                "-d",
                f"{int(seconds)}s",
                "--latency",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    duration = float(re.search(r"requests in ([\d.]+)s", out).group(1))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(match.group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)] if p99 else 1
    latencies = [float(p99.group(1)) * scale] if p99 else []
    return Result(total - errors, duration, errors, latencies)


def open_loop(
    url: str,
    headers: Headers,
    *,
    rate: float,
    seconds: float = 10,
    method: str = "GET",
    body: Callable[[int], bytes] | None = None,
) -> Result:
    """Send ``rate`` requests per second on schedule; latency counts from the scheduled time."""
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def one(i: int) -> None:
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            status = _request(url, headers(i), method, body(i) if body else None)
        except OSError:
            status = 0
        elapsed = (time.perf_counter() - due) * 1000
        with lock:
            latencies.append(elapsed)
            if not 200 <= status < 400:
                errors[0] += 1

    with ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(one, range(total)))
    duration = time.perf_counter() - start
    return Result(total - errors[0], duration, errors[0], latencies)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """A gunicorn server on loopback for the length of a ``with`` block."""

    def __init__(
        self, app: str, *, workers: int = 2, threads: int = 1, env: dict[str, str] | None = None
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        self.process = subprocess.Popen(
            [
                gunicorn,
                "-w",
                str(workers),
                "--threads",
                str(threads),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                app,
            ],
            env={**os.environ, **(env or {})},
        )

    def __enter__(self) -> Gunicorn:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                _request(self.url + "/healthz", {})
                return self
            except OSError:
                time.sleep(0.2)
        self.process.kill()
        raise RuntimeError(f"gunicorn for {self.url} did not start")

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def report(title: str, rows: list[tuple[str, str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"  {name.ljust(width)}  {value:>14}  {note}")
