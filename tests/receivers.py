"""Webhook receivers for the tests of alert delivery: a real HTTP server on a free loopback port
that answers as it is told (accept, fail, hang), and a wait for what it should get."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


def eventually(check, timeout: float = 5.0):
    """`check()` once it is truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.02)
    return found


class Receiver:
    """A webhook receiver on a free loopback port. `mode` is what it does with the next
    request: 'ok' (204), 'fail' (503) or 'hang' (answers 204 after `hang` seconds); the first
    `fail_first` requests fail whatever the mode."""

    def __init__(
        self, port: int | None = None, mode: str = "ok", hang: float = 2.0, fail_first: int = 0
    ) -> None:
        self.mode, self.hang, self.fail_first = mode, hang, fail_first
        self.attempts: list[tuple[float, str]] = []  # (monotonic time, event id) of each
        self.got: list[tuple[dict, bytes]] = []  # the requests it accepted
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                mode = receiver.mode
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    mode = "fail"
                receiver.attempts.append((time.monotonic(), self.headers["Storemon-Event-Id"]))
                if mode == "hang":
                    time.sleep(receiver.hang)
                if mode == "fail":
                    self.send_response(503)
                else:
                    receiver.got.append((dict(self.headers), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.got]

    def seqs(self) -> list[int]:
        return [event["seq"] for event in self.events()]


@contextmanager
def receiving(**options) -> Iterator[Receiver]:
    receiver = Receiver(**options)
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
