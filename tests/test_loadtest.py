"""`storemon loadtest` (`just load`) runs Locust's readers against a served report and says
what it measured per route (its speed is the bench's business, not the suite's)."""

from __future__ import annotations

import subprocess
import sys

from storemon.bench.load import Load, Route

ROUTES = ("report page", "store page", "store week (JSON)", "report CSV", "overview", "/health")


def test_the_load_test_reads_every_route_and_prints_its_table(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "storemon", "loadtest", "--stores", "60", "--users", "10",
         "--seconds", "3", "--no-reports", "--data", str(tmp_path / "bench")],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {
        line.split("|")[1].strip(): line.split("|")[2:4]
        for line in done.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| route")
    }
    for route in ROUTES:
        requests, failures = rows[route]
        assert int(requests.replace(",", "")) > 0 and failures.strip() == "0", route
    assert "owner: store week (JSON)" in rows  # an owner's key read its own stores
    assert "10 users for 3 s, no report triggered meanwhile" in done.stdout


def test_a_run_in_which_no_reader_asked_for_health_says_so_and_is_not_met():
    route = Route("report page", 40, 0, 20.0, 5.0, 9.0, 12.0, 15.0)
    load = Load([route], route, users=5, seconds=2, reports=None, server_peak_rss_bytes=2**20,
                owner_stores=60)  # fmt: skip
    assert load.health() is None and not load.met()
    assert load.verdict().endswith("/health p99 <= 20 ms (is not asked): NOT met")
