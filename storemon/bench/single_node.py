"""One process: `storemon ingest` into a fresh database file, and the report SQL, warm (one
process opens the database, runs the report once, then times each further run and each SQL
file of it)."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from storemon.bench.children import run_child
from storemon.bench.data import Prepared, ingest_once
from storemon.bench.results import Result, seconds_and_peak
from storemon.database import scalar
from storemon.instants import instant
from storemon.report import AS_OF_REACH


def bench_ingest(data: Prepared, repeat: int) -> Result:
    scratch = data.folder / "ingest-scratch.duckdb"
    runs = [ingest_once(data, scratch) for _ in range(repeat)]
    scratch.unlink(missing_ok=True)
    return Result("ingest", "load CSVs (storemon ingest)", data.describe(), *seconds_and_peak(runs))


def bench_report(name: str, data: Prepared, repeat: int, furthest: bool = False) -> Result:
    """SQL only, warm: the child runs the report once untimed, then `repeat` timed runs; as of
    the latest poll + 7 days when `furthest`."""
    worker = [sys.executable, "-m", "storemon.bench", "report-worker", str(data.db), str(repeat)]
    _, rss, out = run_child(worker + (["furthest"] if furthest else []))
    runs = json.loads(out)
    steps = {
        step: statistics.median(run["steps"][step] for run in runs) for step in runs[0]["steps"]
    }
    return Result(
        name,
        "compute the report as of latest poll + 7 days (SQL, warm)"
        if furthest
        else "compute the report (SQL, warm)",
        data.describe(),
        [run["seconds"] for run in runs],
        rss,
        steps=steps,
    )


def report_worker(db: str, repeat: int, furthest: bool = False) -> None:
    """Child side of bench_report: prints a JSON list of {seconds, steps}."""
    from storemon.database import connect
    from storemon.report import run_report

    with connect(Path(db), read_only=True) as con:
        # its stdout is the JSON: DuckDB's bar, which it prints there for a statement longer
        # than 2 s (the 10x report's on a slow machine), would break it
        con.execute("SET enable_progress_bar = false")
        as_of = None
        if furthest:
            latest_us = scalar(con, "SELECT epoch_us(max(timestamp_utc)) FROM polls")
            as_of = instant(latest_us)
            as_of += AS_OF_REACH
        run_report(con, as_of)  # warm: the file's pages are read, the macros and plans are built
        runs = []
        for _ in range(repeat):
            run = run_report(con, as_of)
            runs.append({"seconds": run.seconds, "steps": dict(run.steps)})
    print(json.dumps(runs))
