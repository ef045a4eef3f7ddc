"""The readers of `storemon loadtest` (storemon/bench/load.py), for Locust: people reading one
finished report at once, each waiting 0-0.5 s between requests.

Most are readers of every store (an admin key, or open reads); one in five is an owner, whose
key reads only its own stores. Both ask, out of every twelve requests: three report pages (its
sorts, searches and pages), three store pages, three stores' weeks as JSON, one report CSV
(gzip accepted, as a browser would), one overview and one /health. The report, the stores and
the keys come from environment variables that the load test sets (LOAD_* below; the stores
as files of one id a line).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from urllib.parse import quote

from locust import FastHttpUser, between, task


def _lines(variable: str) -> list[str]:
    """The store ids in the file that the environment variable names, one a line."""
    path = os.environ.get(variable)
    return Path(path).read_text().splitlines() if path else []


REPORT = os.environ.get("LOAD_REPORT", "")
STORES = _lines("LOAD_STORES")
OWNER_KEY = os.environ.get("LOAD_OWNER_KEY", "")
OWNER_STORES = _lines("LOAD_OWNER_STORES")

PAGES = (  # the report pages asked for, as in the bench's report_page row
    "",
    "?sort=outages_last_week&order=desc",
    "?sort=store_id&order=asc&page=100",
    "?sort=longest_outage_last_week&order=desc&q=a",
    "?sort=uptime_last_day&order=asc&q=1&page=3",
    "?sort=down_now&order=desc",
)
HTML = {"Accept": "text/html"}


class Reader(FastHttpUser):
    """Reads every store."""

    weight = 4
    wait_time = between(0, 0.5)
    key = ""  # open reads (storemon serve's default)
    stores = STORES
    pages: tuple[str, ...] = PAGES
    label = ""  # before each route's name in the results

    def _get(self, path: str, name: str, headers: dict[str, str] | None = None) -> None:
        sent = dict(headers or {})
        if self.key:
            sent["Authorization"] = f"Bearer {self.key}"
        self.client.get(path, name=self.label + name, headers=sent)

    @task(3)
    def report_page(self) -> None:
        page = random.choice(self.pages)
        self._get(f"/ui/reports/{REPORT}{page}", "report page", HTML)

    @task(3)
    def store_page(self) -> None:
        if not self.stores:
            return
        store = quote(random.choice(self.stores), safe="")
        self._get(f"/ui/reports/{REPORT}/stores/{store}", "store page", HTML)

    @task(3)
    def store_week(self) -> None:
        if not self.stores:
            return
        store = quote(random.choice(self.stores), safe="")
        self._get(f"/reports/{REPORT}/stores/{store}", "store week (JSON)")

    @task(1)
    def report_csv(self) -> None:
        self._get(f"/reports/{REPORT}.csv", "report CSV", {"Accept-Encoding": "gzip"})

    @task(1)
    def overview(self) -> None:
        self._get("/ui/", "overview", HTML)

    @task(1)
    def health(self) -> None:
        self.client.get("/health", name="/health")  # the same for every key


class Owner(Reader):
    """An owner's key: its own stores alone, in every answer."""

    weight = 1
    key = OWNER_KEY
    stores = OWNER_STORES
    label = "owner: "
    pages = ("", "?sort=outages_last_week&order=desc", "?sort=store_id&order=asc")
