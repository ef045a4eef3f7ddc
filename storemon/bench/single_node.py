"""One process: `storemon ingest` into a fresh database file, and the report SQL, warm (one
process opens the database, runs the report once, then times each further run and each SQL
file of it)."""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from storemon.bench.children import run_child
from storemon.bench.data import Prepared, ingest_once
from storemon.bench.results import Result, seconds_and_peak
from storemon.database import scalar
from storemon.instants import instant
from storemon.report import AS_OF_REACH

# The least any correct report must do (issue "scale, for real"): one window pass over the
# polls, each poll's gap since the store's last, and a sum. The report is measured against it,
# the two taken in turn in one process.
FLOOR = (
    "SELECT sum(at_us - before_us) FROM (SELECT epoch_us(timestamp_utc) AS at_us, "
    "lag(epoch_us(timestamp_utc)) OVER (PARTITION BY store_key ORDER BY timestamp_utc) "
    "AS before_us FROM polls)"
)


def bench_ingest(data: Prepared, repeat: int) -> Result:
    scratch = data.folder / "ingest-scratch.duckdb"
    runs = [ingest_once(data, scratch) for _ in range(repeat)]
    scratch.unlink(missing_ok=True)
    return Result("ingest", "load CSVs (storemon ingest)", data.describe(), *seconds_and_peak(runs))


def bench_report(
    name: str, data: Prepared, repeat: int, furthest: bool = False
) -> tuple[Result, float]:
    """SQL only, warm: the child runs the report once untimed, then `repeat` timed runs, each
    followed by a run of FLOOR; as of the latest poll + 7 days when `furthest`. The report's
    Result, and FLOOR's median seconds."""
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
    ), statistics.median(run["floor"] for run in runs)


def bench_report_pair(
    name: str, plain: Prepared, other: Prepared, repeat: int
) -> tuple[Result, float]:
    """The report on `other` against the same report on `plain`, in one child taking them in
    turn (so the machine's drift falls on both alike): `other`'s Result, and the median of the
    pairs' ratios (other / plain)."""
    worker = [sys.executable, "-m", "storemon.bench", "report-pair-worker"]
    _, rss, out = run_child([*worker, str(plain.db), str(other.db), str(repeat)])
    pairs = json.loads(out)
    ratio = statistics.median(b["seconds"] / a["seconds"] for a, b in pairs)
    runs = [b for _, b in pairs]
    steps = {
        step: statistics.median(run["steps"][step] for run in runs) for step in runs[0]["steps"]
    }
    return Result(
        name,
        "compute the report (SQL, warm)",
        other.describe(),
        [run["seconds"] for run in runs],
        rss,
        steps=steps,
    ), ratio


def report_pair_worker(plain_db: str, other_db: str, repeat: int) -> None:
    """Child side of bench_report_pair: prints a JSON list of [plain run, other run] pairs, the
    two taken in turn, first one then the other first."""
    from storemon.database import connect
    from storemon.report import run_report

    with (
        connect(Path(plain_db), read_only=True) as plain,
        connect(Path(other_db), read_only=True) as other,
    ):
        for con in (plain, other):
            con.execute("SET enable_progress_bar = false")
            run_report(con)  # warm
        pairs = []
        for number in range(repeat):
            order = (plain, other) if number % 2 == 0 else (other, plain)
            timed = {}
            for con in order:
                run = run_report(con)
                timed[id(con)] = {"seconds": run.seconds, "steps": dict(run.steps)}
            pairs.append([timed[id(plain)], timed[id(other)]])
    print(json.dumps(pairs))


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
        con.execute(FLOOR).fetchall()
        runs = []
        for _ in range(repeat):
            run = run_report(con, as_of)
            started = time.perf_counter()
            con.execute(FLOOR).fetchall()
            floor = time.perf_counter() - started
            runs.append({"seconds": run.seconds, "steps": dict(run.steps), "floor": floor})
    print(json.dumps(runs))
