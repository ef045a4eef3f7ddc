"""`storemon cluster` on `dask scheduler` and `dask worker` processes of their own (the README's
commands, on 127.0.0.1): ingest, then one report, each bucket timed."""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from storemon.bench.children import run_child
from storemon.bench.dask_processes import DaskProcesses
from storemon.bench.data import Prepared
from storemon.bench.results import Result


def _worker_peak() -> int:
    """A worker process's own peak resident memory (run on each worker by Client.run)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def bench_cluster(
    sets: list[Prepared], buckets: int, workers: int = 2
) -> list[tuple[Result, Result, dict]]:
    """`storemon cluster` on a scheduler and `workers` one-thread workers, from a child process (the
    bench's own stays lean: its children inherit its peak memory): for each data set in turn,
    smallest first, ingest its three files into a fresh data folder of `buckets` buckets, then
    one report. Peak RSS is the largest worker's (peaks only grow: a later set's is at least an
    earlier one's). Also returns each report task's (polls, seconds), the Parquet's size, and
    whether the CSV is the full load's."""
    child = [sys.executable, "-m", "storemon.bench", "cluster-worker", str(workers), str(buckets)]
    _, _, out = run_child(child + [str(data.folder) for data in sets])
    rows = []
    for data, facts in zip(sets, json.loads(out), strict=True):
        described = (
            f"{data.describe()}, {workers} workers, {facts['buckets']} buckets in "
            f"{len(facts['tasks'])} tasks"
        )
        rows.append((
            Result("cluster_ingest",
                   "cluster ingest (one task per file or 64 MB piece, then a compaction if the "
                   "polls came in pieces)",
                   described, [facts["ingest_seconds"]], facts["ingest_peak"]),
            Result("cluster_report", "cluster report (tasks of whole buckets, sized by data)",
                   described,
                   facts["in_turn"]["cluster"], facts["report_peak"]),
            facts,
        ))  # fmt: skip
    return rows


def cluster_worker(workers: int, buckets: int, folders: list[Path]) -> None:
    """Child side of bench_cluster: prints the facts of each folder's data set, as JSON."""
    from storemon import cluster

    found = []
    with (
        tempfile.TemporaryDirectory(prefix="storemon-dask-") as logs,
        DaskProcesses(Path(logs), workers) as processes,
        cluster.connect_cluster(processes.address) as client,
    ):
        for folder in folders:
            found.append(_ingest_and_report(client, folder, buckets))
    print(json.dumps(found))


def _ingest_and_report(client, folder: Path, buckets: int) -> dict:
    from storemon import cluster

    data = folder / "cluster-scratch"
    shutil.rmtree(data, ignore_errors=True)
    names = ("store_status.csv", "menu_hours.csv", "timezones.csv", "store_groups.csv")
    files = [folder / name for name in names]  # what the single-process database was loaded from
    out = folder / "cluster-report.csv"
    started = time.perf_counter()
    cluster.ingest(client, data, files, buckets)
    ingest_seconds = time.perf_counter() - started
    ingest_peaks = sorted(client.run(_worker_peak).values(), reverse=True)
    done = cluster.report(client, data, out)
    on_cluster, single = _in_turn(client, data, folder / "storemon.duckdb")
    report_peaks = sorted(client.run(_worker_peak).values(), reverse=True)
    same = out.read_bytes() == (folder / "full-load-report.csv").read_bytes()
    disk = sum(f.stat().st_size for kind in (*cluster.KEPT, cluster.STORES, "rejected")
               for f in (data / kind).rglob("*.parquet"))  # fmt: skip
    shutil.rmtree(data, ignore_errors=True)
    out.unlink(missing_ok=True)
    return {
        "ingest_seconds": ingest_seconds,
        "ingest_peak": ingest_peaks[0],
        "in_turn": {"cluster": on_cluster, "single": single},
        "report_peak": report_peaks[0],
        "worker_peaks": report_peaks,  # each worker's, largest first (peaks only grow)
        "buckets": done["buckets"],
        "tasks": [(task["polls"], task["seconds"]) for task in done["tasks"]],
        "tables_seconds": [task["tables_seconds"] for task in done["tasks"]],
        "same": same,
        "disk_bytes": disk,
    }


PAIRS = 3  # the cluster's report and the single process's, taken in turn


def _in_turn(client, data: Path, db: Path, pairs: int = PAIRS) -> tuple[list[float], list[float]]:
    """The cluster's report (cluster.compute: its tasks and roll-ups) and the single-process
    report's SQL (warm, in this process, on the database the bench loaded from the same files),
    taken in turn `pairs` times, first one then the other first: their seconds. The machine's
    speed drifts from minute to minute by more than the targets' margins; taken in turn, the
    drift falls on both alike, and alternating which goes first, on neither more than the
    other."""
    from storemon import cluster
    from storemon.database import connect
    from storemon.report import run_report

    on_cluster, single = [], []
    with connect(db, read_only=True) as con:
        con.execute("SET enable_progress_bar = false")
        run_report(con)  # warm: the file's pages are read, the macros are made
        for number in range(pairs):
            if number % 2 == 0:
                on_cluster.append(cluster.compute(client, data)["seconds"])
            single.append(run_report(con).seconds)
            if number % 2 == 1:
                on_cluster.append(cluster.compute(client, data)["seconds"])
    return on_cluster, single


def in_turn_ratio(facts: dict) -> float:
    """The median of the pairs' ratios, cluster / single process."""
    pairs = zip(facts["in_turn"]["cluster"], facts["in_turn"]["single"], strict=True)
    return statistics.median(c / s for c, s in pairs)


def per_million_polls(tasks: list[tuple[int, float]]) -> float:
    """A report's worker seconds per million polls: its tasks' seconds over their polls."""
    polls = sum(count for count, _ in tasks)
    return sum(seconds for _, seconds in tasks) / (polls / 1e6) if polls else 0.0


def task_fit(tasks: list[tuple[int, float]]) -> tuple[float, float]:
    """A task's seconds as a line in its polls, by least squares over `tasks` ((polls, seconds),
    those of the 1x and 10x reports together): (fixed seconds a task, seconds per M polls)."""
    xs = [polls / 1e6 for polls, _ in tasks]
    ys = [seconds for _, seconds in tasks]
    if len(set(xs)) == 1:  # all tasks alike: no line, only their rate
        return 0.0, statistics.fmean(ys) / xs[0] if xs[0] else 0.0
    slope, intercept = statistics.linear_regression(xs, ys)
    return intercept, slope


# What the README projects the cluster to: the report at 100x and 1000x the 1x data's polls, on
# this many one-thread workers.
PROJECTED = {"100x": 100, "1000x": 1000}
PROJECTED_WORKERS = (8, 64)


def projection(fit: tuple[float, float], polls_1x: int, polls_a_task: float) -> dict[str, dict]:
    """From the fit: each projected size's tasks (of `polls_a_task` polls, as the cluster sizes
    them), its worker seconds, and its minutes on each of PROJECTED_WORKERS workers (the client's
    own work, writing the CSV, not included)."""
    fixed, per_million = fit
    found = {}
    for name, times in PROJECTED.items():
        polls = polls_1x * times
        tasks = max(1, round(polls / polls_a_task))
        seconds = tasks * fixed + per_million * polls / 1e6
        found[name] = {
            "polls": polls,
            "tasks": tasks,
            "worker_seconds": seconds,
            "minutes": {workers: seconds / workers / 60 for workers in PROJECTED_WORKERS},
        }
    return found
