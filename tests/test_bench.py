"""`storemon bench` runs end to end and says what it measured (timing itself is not tested)."""

from __future__ import annotations

import json
import subprocess
import sys

from storemon.bench import Dataset, prepare, render
from storemon.database import sql_files

WORKLOADS = {
    "ingest",
    "report",
    "report_plus_7d",
    "report_floor",
    "api",
    "outages",
    "rollups",
    "store_week",
    "owner_csv",
    "report_page",
    "concurrent",
    "report_10x",
    "report_special",
    "report_special_10x",
    "special_batch",
    "memory_10x",
    "ingest_10x",
    "ingest_5min",
    "report_5min",
    "live_batch",
    "live_week",
    "alert_delay",
    "cluster_ingest_1x",
    "cluster_report_1x",
    "cluster_ingest_10x",
    "cluster_report_10x",
}


def test_bench_measures_every_workload_and_writes_json(tmp_path):
    out = tmp_path / "results.json"
    # small: 30 stores, one day, two runs, four buckets (the buckets themselves:
    # tests/test_cluster.py)
    options = [
        "--stores",
        "30",
        "--days",
        "1",
        "--repeat",
        "2",
        "--buckets",
        "4",
        "--load-seconds",
        "2",
        "--data",
        str(tmp_path / "bench"),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "storemon", "bench", *options, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    by_name = {r["name"]: r for r in results["results"]}
    assert set(by_name) == WORKLOADS
    for name, result in by_name.items():
        # (an alert can reach the webhook before its batch's answer reaches the client: 0 s)
        least = 0 if name == "alert_delay" else 1e-9
        assert result["seconds"] and all(s >= least for s in result["seconds"]), name
        assert result["peak_rss_bytes"] > 10 * 2**20, name  # a Python process with DuckDB
        assert result["target"], name
    assert len(by_name["report"]["seconds"]) == 2
    # The furthest as-of the rules allow costs no more than twice the normal report.
    furthest = by_name["report_plus_7d"]
    assert len(furthest["seconds"]) == 2 and furthest["target"].startswith("<= 2x the normal")
    assert furthest["met"] is (furthest["median"] <= 2 * by_name["report"]["median"])
    assert list(furthest["steps"]) == [
        path.stem for path in sql_files("report") + sql_files("rollups")
    ]
    # The report against the least a report must do, taken in turn: its ratio is said.
    floor = by_name["report_floor"]
    ratio = by_name["report"]["median"] / floor["median"]
    assert f"(is {ratio:.1f}x)" in floor["target"] and floor["met"] is (ratio <= 2.5)
    assert by_name["report_10x"]["data"].startswith("300 stores")
    # The live days: one answer per hourly batch, and the report after them is the full load's.
    assert len(by_name["live_batch"]["seconds"]) >= 24
    assert "(same)" in by_name["live_week"]["target"], by_name["live_week"]["target"]
    # The 5-minute data set has twelve polls per store for every one of the hourly set.
    polls = {r["name"]: r["data"] for r in results["results"]}
    assert polls["report_5min"] != polls["report"]
    steps = by_name["report"]["steps"]
    assert list(steps) == [path.stem for path in sql_files("report") + sql_files("rollups")]
    # The outages row is the report's own steps 09 and 10, the roll-ups' its sql/rollups/ (the
    # bench's data has groups); a store's week was asked of 25 stores.
    outages = by_name["outages"]["seconds"][0]
    assert outages == steps["09_store_outages"] + steps["10_store_outage_summary"]
    rollups = by_name["rollups"]["seconds"][0]
    assert rollups == steps["01_group_sums"] + steps["02_group_rollups"] > 0
    assert len(by_name["store_week"]["seconds"]) == 25
    # The cluster's report is the single-node report, at both sizes.
    for key in ("1x", "10x"):
        assert "(same)" in by_name[f"cluster_report_{key}"]["target"], key
    # The printed table has a row per workload and one per SQL step.
    for row in ("trigger -> Complete through the API", "03_business_intervals"):
        assert row in done.stdout
    assert results["cpus"] and results["duckdb"]
    # Linux hands a parent's peak memory to its children: the bench's own must stay below theirs.
    floor = results["bench_process_peak_rss_bytes"]
    assert 0 < floor < min(r["peak_rss_bytes"] for r in results["results"])


def test_data_sets_are_cached_and_made_again_when_asked_for_differently(tmp_path):
    said = []
    first = prepare(Dataset("1x", 30, 60), tmp_path, said.append)
    made = first.folder.joinpath("store_status.csv").stat().st_mtime_ns
    again = prepare(Dataset("1x", 30, 60), tmp_path, said.append)
    assert again.folder.joinpath("store_status.csv").stat().st_mtime_ns == made
    assert len(said) == 1 and again.polls == first.polls > 0
    # A stamp that does not match (here: edited by hand) means the data is made again.
    stamp = first.folder / "generated.json"
    stamp.write_text(json.dumps({**json.loads(stamp.read_text()), "seed": 7}))
    prepare(Dataset("1x", 30, 60), tmp_path, said.append)
    assert len(said) == 2


def test_render_flags_a_missed_target_and_shows_the_earlier_run():
    def result(name, median, met):
        return {
            "name": name,
            "workload": f"workload {name}",
            "data": "d",
            "seconds": [median],
            "median": median,
            "peak_rss_bytes": 2**20,
            "target": "<= 1 s",
            "met": met,
            "steps": {},
        }

    table = render(
        {"results": [result("report", 2.0, False)]},
        {"commit": "abc123", "results": [result("report", 0.5, True)]},
    )
    assert (
        "| workload report | d | 1 | 2.00 s | 2.00-2.00 s | 1 MB | <= 1 s | **NO** | 0.50 s |"
        in table
    )
    assert "before (abc123)" in table
