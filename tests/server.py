"""storemon's service for tests: a real server (uvicorn on 127.0.0.1, a free port, started and
stopped) where the server itself is the point, else the same app in this process behind
Litestar's test client, from the same command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest.mock import patch

import msgspec
from litestar.testing import TestClient

from storemon.api import create_app
from storemon.bench.children import free_port
from storemon.cli import parser, serve_settings

ROOT = Path(__file__).resolve().parent.parent
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy


def storemon(*args: str, timeout: float = 300) -> str:
    """`storemon ARGS...` from the project's folder; it must succeed. Returns what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "storemon", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def ingest_command(db: Path, files) -> list[str]:
    """`storemon ingest` of generated `files` into `db`, as a command line."""
    return [
        sys.executable,
        "-m",
        "storemon",
        "ingest",
        "--db",
        str(db),
        *("--status", str(files.status), "--hours", str(files.hours)),
        *("--timezones", str(files.timezones)),
    ]


class Answers(ABC):
    """Requests to a storemon service and its answers; `send` is how they travel."""

    db: Path
    _token: str | None

    @abstractmethod
    def send(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict, bytes]:
        """One request as it is; its status, headers and body."""

    @property
    def token(self) -> str:
        """$STOREMON_TOKEN as the server got it, or the key it made beside its database."""
        return self._token or Path(f"{self.db}.token").read_text().strip()

    def request(
        self,
        method: str,
        path: str,
        body: dict | list | None = None,
        accept: str = "*/*",
        timeout: float = 30,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> tuple[int, dict, bytes]:
        """Send JSON `body` (or raw `data`, typed by `headers`); HTTP errors are answers."""
        if body is not None:
            data = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        return self.send(method, path, data, {"Accept": accept, **(headers or {})}, timeout)

    def json(
        self, method: str, path: str, body: dict | list | None = None, **options
    ) -> tuple[int, object]:
        code, _, content = self.request(method, path, body, accept="application/json", **options)
        return code, json.loads(content)

    def authorized(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def trigger(self, as_of: str | None = None) -> str:
        code, answer = self.json("POST", "/trigger_report", {"as_of": as_of} if as_of else None)
        assert code == 202, answer
        return answer["report_id"]

    def wait(self, report_id: str, timeout: float = 120) -> tuple[int, dict, bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, headers, content = self.request("GET", f"/get_report?report_id={report_id}")
            if code != 202:
                return code, headers, content
            time.sleep(0.05)
        raise AssertionError(f"report {report_id} still running after {timeout} s")


class Server(Answers):
    """A real `storemon serve` process, over HTTP on loopback."""

    def __init__(
        self, process: subprocess.Popen, url: str, log: Path, db: Path, token: str | None
    ) -> None:
        self.process, self.url, self.log, self.db = process, url, log, db
        self._token = token

    def send(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with _opener.open(request, timeout=timeout) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as answer:
            return answer.code, dict(answer.headers), answer.read()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


class InProcess(Answers):
    """The same app in this process, behind Litestar's test client (no socket, no process)."""

    def __init__(
        self, client: TestClient, db: Path, token: str, log: Path, stop: Callable[[], None]
    ) -> None:
        self.client, self.db, self._token, self.log = client, db, token, log
        self.stop = stop  # shut the app down now (as the block's end would): frees the file

    def send(
        self, method: str, path: str, data: bytes | None, headers: dict[str, str], timeout: float
    ) -> tuple[int, dict, bytes]:
        answer = self.client.request(method, path, content=data, headers=headers, timeout=timeout)
        return answer.status_code, dict(answer.headers), answer.content


@contextmanager
def in_process(
    db: Path, *args: str, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[InProcess]:
    """`storemon serve --db DB ARGS...` as an app in this process, until the block ends: the
    same settings from the same command line, without the socket and the process."""
    arguments = parser().parse_args(["serve", "--db", str(db), "--workers", str(workers), *args])
    with patch.dict(os.environ, env or {}):  # as the server's own environment would
        settings = msgspec.structs.replace(serve_settings(arguments), url=None)
    with ExitStack() as running:
        log = running.enter_context(logged_to(Path(db).with_suffix(".in-process.log")))
        client = running.enter_context(
            TestClient(create_app(settings), base_url="http://127.0.0.1")
        )
        yield InProcess(client, Path(db), settings.token, log, running.close)


@contextmanager
def logged_to(path: Path) -> Iterator[Path]:
    """What storemon and Litestar log (INFO and up, as `storemon serve` logs it), into `path`.
    (On their own loggers: Litestar configures the root logger's handlers when the app starts.)"""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    loggers = [logging.getLogger(name) for name in ("storemon", "litestar")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield path
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
            logger.removeHandler(handler)
        handler.close()


@contextmanager
def serving(
    db: Path,
    *args: str,
    command: str = "serve",
    cwd: Path | None = None,
    workers: int = 2,
    env: dict[str, str] | None = None,
    launcher: tuple[str, ...] = (),
) -> Iterator[Server]:
    """A real `storemon serve` (or `demo`) on a free loopback port, until the block ends.
    `launcher` goes before the command (e.g. one that runs it on a small disk of its own)."""
    port = free_port()
    log = (cwd or ROOT) / Path(db).with_suffix(f".{port}.log")
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                *launcher,
                sys.executable,
                "-m",
                "storemon",
                command,
                "--db",
                str(db),
                "--port",
                str(port),
                "--workers",
                str(workers),
                *args,
            ],
            cwd=cwd or ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
    server = Server(
        process,
        f"http://127.0.0.1:{port}",
        log,
        Path(cwd or ROOT) / db,
        (env or {}).get("STOREMON_TOKEN", os.environ.get("STOREMON_TOKEN")),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {log.read_text()}")
            try:
                if server.request("GET", "/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server did not start: {log.read_text()}")
            time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
