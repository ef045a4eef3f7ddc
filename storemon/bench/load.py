"""Many readers at once: Locust, headless, drives simulated readers (storemon/bench/locustfile.py)
against a real `storemon serve` on a free loopback port that holds one finished report of the
1x data, while a report is triggered every REPORT_EVERY seconds. Prints requests/s and
percentiles per route.

The load generator runs on the same machine as the server, as the targets assume.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from storemon.auth import client_token
from storemon.bench.data import Prepared
from storemon.bench.service import OWNER, bench_server, remove_scratch, trigger, wait_for
from storemon.client import call
from storemon.errors import StoremonError

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
USERS = 50
REPORT_EVERY = 10  # seconds between the reports triggered while the readers read
WARM_UP = 10  # seconds of the same load before the measured run, not counted (at most as long)

# The targets (issue "many readers at once"): all routes together, and /health alone.
TARGET_RPS = 150
TARGET_P99_MS = 250
TARGET_HEALTH_P99_MS = 20


@dataclass(frozen=True)
class Route:
    """One route's figures from Locust (its percentiles are Locust's, rounded as it rounds)."""

    name: str
    requests: int
    failures: int
    per_second: float
    median_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class Load:
    routes: list[Route]
    total: Route
    users: int
    seconds: int
    reports: int | None  # reports that finished while the readers read (None: none triggered)
    server_peak_rss_bytes: int
    owner_stores: int

    def health(self) -> Route | None:
        """/health's figures; None if no reader asked for it (a short run of few users)."""
        return next((route for route in self.routes if route.name == "/health"), None)

    def health_p99(self) -> str:
        health = self.health()
        return "not asked" if health is None else f"{health.p99_ms:.0f}"

    def met(self) -> bool:
        return (
            self.total.per_second >= TARGET_RPS
            and self.total.p99_ms <= TARGET_P99_MS
            and self.total.failures == 0
            and (health := self.health()) is not None
            and health.p99_ms <= TARGET_HEALTH_P99_MS
        )

    def table(self) -> str:
        lines = [
            "| route | requests | failures | req/s | median | p95 | p99 | max |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for route in [*self.routes, self.total]:
            lines.append(
                f"| {route.name} | {route.requests:,} | {route.failures:,} "
                f"| {route.per_second:.1f} | {route.median_ms:.0f} ms | {route.p95_ms:.0f} ms "
                f"| {route.p99_ms:.0f} ms | {route.max_ms:.0f} ms |"
            )
        return "\n".join(lines)

    def verdict(self) -> str:
        meanwhile = (
            "no report triggered meanwhile"
            if self.reports is None
            else f"{self.reports} reports computed meanwhile (one every {REPORT_EVERY} s)"
        )
        said = (
            f"{self.users} users for {self.seconds} s, {meanwhile}; "
            f"the server peaked at {self.server_peak_rss_bytes / 2**20:,.0f} MB. "
            f"Targets: >= {TARGET_RPS} req/s (is {self.total.per_second:.0f}), "
            f"p99 <= {TARGET_P99_MS} ms (is {self.total.p99_ms:.0f}), no failure "
            f"(is {self.total.failures}), /health p99 <= {TARGET_HEALTH_P99_MS} ms "
            f"(is {self.health_p99()}): "
        )
        return said + ("met" if self.met() else "NOT met")


def run_load(
    data: Prepared, users: int = USERS, seconds: int = 30, background_reports: bool = True
) -> Load:
    """Serve a copy of the data set's database, compute one report, then let `users` readers
    read it for `seconds` (after WARM_UP seconds not counted), with a report triggered every
    REPORT_EVERY seconds meanwhile."""
    db = data.folder / "load-scratch.duckdb"
    remove_scratch(db)
    shutil.copyfile(data.db, db)
    log_path = data.folder / "load-server.log"
    with bench_server(db, log_path) as (url, usage):
        latest = datetime.fromisoformat(
            json.loads(call("GET", f"{url}/health")[2])["data"]["latest_poll"]
        )
        report_id = trigger(url)
        report_csv = wait_for(url, report_id, log_path).decode()
        stores = [line.split(",", 1)[0] for line in report_csv.splitlines()[1:]]
        _, _, made = call(
            "POST", f"{url}/keys", {"name": "load-owner", "groups": [OWNER]}, token=client_token(db)
        )
        owner_key = json.loads(made)["key"]
        _, _, owned = call("GET", f"{url}/reports/{report_id}.csv", accept="*/*", token=owner_key)
        owner_stores = [line.split(",", 1)[0] for line in owned.decode().splitlines()[1:]]
        lists = data.folder / "load"
        lists.mkdir(exist_ok=True)
        (lists / "stores.txt").write_text("\n".join(stores))
        (lists / "owner-stores.txt").write_text("\n".join(owner_stores))
        environment = {
            "LOAD_REPORT": report_id,
            "LOAD_STORES": str(lists / "stores.txt"),
            "LOAD_OWNER_KEY": owner_key,
            "LOAD_OWNER_STORES": str(lists / "owner-stores.txt"),
        }
        stop = threading.Event()
        finished: list[str] = []
        worker = threading.Thread(
            target=_reports_meanwhile, args=(url, latest, log_path, stop, finished), daemon=True
        )
        try:
            # first a run not counted: the service is warm (its templates compiled, the
            # report's store weeks kept) when the measured run starts
            _locust(url, environment, users, min(WARM_UP, seconds), lists / "warm-up")
            if background_reports:
                worker.start()
            routes = _locust(url, environment, users, seconds, lists / "stats")
        finally:
            stop.set()
            if worker.is_alive():
                worker.join(timeout=60)
    remove_scratch(db)
    total = next(route for route in routes if route.name == "Aggregated")
    return Load(
        routes=sorted((r for r in routes if r is not total), key=lambda r: r.name),
        total=dataclasses.replace(total, name="all"),
        users=users,
        seconds=seconds,
        reports=len(finished) if background_reports else None,
        server_peak_rss_bytes=usage[0].ru_maxrss * 1024,
        owner_stores=len(owner_stores),
    )


def _reports_meanwhile(
    url: str, latest: datetime, log_path: Path, stop: threading.Event, finished: list[str]
) -> None:
    """A report every REPORT_EVERY seconds, each as of its own instant (identical asks would
    share one computation), until `stop`."""
    turn = 0
    while not stop.wait(REPORT_EVERY):
        turn += 1
        as_of = (latest - timedelta(seconds=turn)).strftime("%Y-%m-%d %H:%M:%S.%f")
        report_id = trigger(url, as_of)
        wait_for(url, report_id, log_path)
        finished.append(report_id)


def _locust(url: str, environment: dict[str, str], users: int, seconds: int, prefix: Path) -> list:
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
        "--host", url, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
        "--stop-timeout", "5",
    ]  # fmt: skip
    done = subprocess.run(
        command,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    stats = Path(f"{prefix}_stats.csv")
    if not stats.is_file():
        raise StoremonError(f"loadtest: Locust wrote no statistics:\n{done.stderr[-2000:]}")
    with stats.open() as handle:
        return [_route(row) for row in csv.DictReader(handle)]


def _route(row: dict[str, str]) -> Route:
    def number(column: str) -> float:
        value = row[column]
        return float(value) if value not in ("", "N/A") else 0.0

    return Route(
        name=row["Name"],
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        per_second=number("Requests/s"),
        median_ms=number("50%"),
        p95_ms=number("95%"),
        p99_ms=number("99%"),
        max_ms=number("Max Response Time"),
    )
