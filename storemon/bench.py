"""`storemon bench`: issue 4's speed and scale targets, measured on generated data.

Every workload runs in its own process, as a user would run it, so that its wall time and its
peak memory (the child's maximum resident set, from wait4) are its own. (Linux carries the
parent's peak into a child at exec, so this process stays small: it never loads data itself,
and it reports its own peak, the floor under every child's.)

- ingest    `storemon ingest` into a fresh database file
- report    the report SQL, warm: one process opens the database, runs the report once, then
            times each further run and each SQL file of it; also as of the latest poll + 7 days
            (the furthest instant the rules allow), which must cost no more than twice as much
- api       `storemon serve`, then POST /trigger_report and GET /get_report until Complete
            (the CSV and Parquet files are written by then)

Data sets come from `storemon generate` and are kept under data/bench/ with the parameters that
made them; a folder whose parameters differ is made again. Results are printed as a table and
written as JSON, and `--compare` prints an earlier JSON's medians beside the new ones.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import duckdb

from storemon import __version__, generate
from storemon.auth import client_token
from storemon.client import call
from storemon.cluster import DEFAULT_BUCKETS
from storemon.database import scalar
from storemon.errors import StoremonError
from storemon.instants import instant
from storemon.report import AS_OF_REACH
from storemon.service import service_file

DEFAULT_ROOT = Path("data/bench")
STAMP = "generated.json"
GB = 1024**3
MB = 1024**2


@dataclass(frozen=True)
class Dataset:
    key: str
    stores: int
    poll_minutes: int

    @property
    def folder_name(self) -> str:
        return f"{self.stores}-stores-every-{self.poll_minutes}-min"


@dataclass
class Prepared:
    dataset: Dataset
    folder: Path
    db: Path
    polls: int
    csv_mb: float

    def describe(self) -> str:
        return f"{self.dataset.stores:,} stores, {self.polls / 1e6:.2f} M polls"

    def inputs(self) -> list[str]:
        return [
            "--status", str(self.folder / "store_status.csv"),
            "--hours", str(self.folder / "menu_hours.csv"),
            "--timezones", str(self.folder / "timezones.csv"),
        ]  # fmt: skip


@dataclass
class Result:
    name: str  # short and stable, to match runs when comparing
    workload: str
    data: str
    seconds: list[float]
    peak_rss_bytes: int
    target: str = ""
    met: bool | None = None
    steps: dict[str, float] = field(default_factory=dict)  # SQL file -> median seconds

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def datasets(stores: int) -> dict[str, Dataset]:
    return {
        "1x": Dataset("1x", stores, 60),
        "10x": Dataset("10x", stores * 10, 60),
        "5min": Dataset("5min", stores, 5),
    }


# --- running children ------------------------------------------------------------------------


def storemon(*args: str) -> list[str]:
    return [sys.executable, "-m", "storemon", *args]


def run_child(command: list[str]) -> tuple[float, int, str]:
    """Run a command to its end: (wall seconds, peak RSS in bytes, stdout). Fails loudly."""
    # Output goes to files, not pipes: Popen.communicate() would reap the child itself, and
    # only wait4 says how much memory it used.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            raise StoremonError(f"bench: {' '.join(command)} failed:\n{err.read().strip()}")
        return seconds, usage.ru_maxrss * 1024, out.read()


# --- data ------------------------------------------------------------------------------------


def prepare(dataset: Dataset, root: Path, log) -> Prepared:
    """Generate the data set unless a copy made the same way (same parameters, same generator
    code) is cached in `root`."""
    folder = root / dataset.folder_name
    stamp_path = folder / STAMP
    generator = hashlib.sha256(Path(generate.__file__).read_bytes()).hexdigest()[:12]
    wanted = {
        "stores": dataset.stores,
        "poll_minutes": dataset.poll_minutes,
        "days": 7,
        "seed": 42,
        "generator": generator,
    }
    stamp = json.loads(stamp_path.read_text()) if stamp_path.is_file() else {}
    if {k: stamp.get(k) for k in wanted} != wanted:
        log(f"generating {dataset.folder_name} (once; cached in {folder}) ...")
        shutil.rmtree(folder, ignore_errors=True)
        args = ["generate", "--out", str(folder), "--stores", str(dataset.stores)]
        seconds, _, said = run_child(storemon(*args, "--poll-minutes", str(dataset.poll_minutes)))
        counted = re.search(r"and ([\d,]+) polls", said)
        if counted is None:
            raise StoremonError(f"bench: storemon generate did not say how many polls: {said!r}")
        polls = int(counted.group(1).replace(",", ""))
        stamp = {**wanted, "polls": polls, "generated_in_seconds": round(seconds, 1)}
        stamp_path.write_text(json.dumps(stamp, indent=2) + "\n")
    csv_mb = sum(p.stat().st_size for p in folder.glob("*.csv")) / 1e6
    return Prepared(dataset, folder, folder / "storemon.duckdb", stamp["polls"], csv_mb)


def ingest_once(data: Prepared, db: Path) -> tuple[float, int]:
    db.unlink(missing_ok=True)
    seconds, rss, _ = run_child(storemon("ingest", "--db", str(db), *data.inputs()))
    return seconds, rss


# --- workloads -------------------------------------------------------------------------------


def bench_ingest(data: Prepared, repeat: int) -> Result:
    scratch = data.folder / "ingest-scratch.duckdb"
    runs = [ingest_once(data, scratch) for _ in range(repeat)]
    scratch.unlink(missing_ok=True)
    return Result(
        "ingest", "load CSVs (storemon ingest)", data.describe(), *_seconds_and_peak(runs)
    )


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


@contextmanager
def bench_server(db: Path, log_path: Path, *args: str) -> Iterator[tuple[str, list]]:
    """`storemon serve` on a free loopback port; yields its URL and a list that holds the
    server's rusage once it has stopped."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    usage: list = []
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            storemon("serve", "--db", str(db), "--port", str(port), *args),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    call("GET", f"{url}/health")
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        message = f"bench: the server did not start; see {log_path}"
                        raise StoremonError(message) from None
                    time.sleep(0.05)
            yield url, usage
        finally:
            if server.returncode is None:  # not yet reaped by poll() above
                server.send_signal(signal.SIGINT)
                _, status, rusage = os.wait4(server.pid, 0)
                server.returncode = os.waitstatus_to_exitcode(status)
                usage.append(rusage)


def wait_for(url: str, report_id: str, log_path: Path) -> bytes:
    while (code := call("GET", f"{url}/get_report/{report_id}")[0]) == 202:
        time.sleep(0.01)
    if code != 200:
        raise StoremonError(f"bench: report {report_id} failed; see {log_path}")
    return call("GET", f"{url}/get_report/{report_id}", accept="text/csv")[2]


STORE_WEEKS = 25  # stores whose week the bench asks for, each once
REPORT_PAGES = [  # the report pages the bench asks for
    "",
    "?sort=outages_last_week&order=desc",
    "?sort=store_id&order=asc&page=100",
    "?sort=longest_outage_last_week&order=desc&q=a",
    "?sort=uptime_last_day&order=asc&q=1&page=3",
    "?sort=down_now&order=desc",
]


def bench_api(data: Prepared, repeat: int) -> tuple[Result, Result, Result]:
    """Trigger -> Complete through a real server on a free loopback port; then one store's week
    (GET /reports/ID/stores/STORE) for stores spread over the report, each asked once."""
    db = data.folder / "api-scratch.duckdb"
    shutil.copyfile(data.db, db)
    log_path = data.folder / "api-server.log"
    with bench_server(db, log_path) as (url, usage):
        latest = datetime.fromisoformat(
            json.loads(call("GET", f"{url}/health")[2])["data"]["latest_poll"]
        )
        seconds = []
        for turn in range(repeat + 1):  # the first round warms the server and is not counted
            # Each as of its own instant: identical asks would share one computation.
            as_of = (latest - timedelta(seconds=turn)).strftime("%Y-%m-%d %H:%M:%S.%f")
            started = time.perf_counter()
            answer = call("POST", f"{url}/trigger_report", {"as_of": as_of})
            report_id = json.loads(answer[2])["report_id"]
            report_csv = wait_for(url, report_id, log_path)
            seconds.append(time.perf_counter() - started)
        stores = [line.split(",", 1)[0] for line in report_csv.decode().splitlines()[1:]]
        step = max(1, len(stores) // STORE_WEEKS)
        week_seconds = []
        for turn, store_id in enumerate([stores[0], *stores[::step][:STORE_WEEKS]]):
            started = time.perf_counter()
            code, _, _ = call("GET", f"{url}/reports/{report_id}/stores/{quote(store_id, safe='')}")
            if code != 200:
                raise StoremonError(f"bench: a store's week answered {code}; see {log_path}")
            if turn:  # the first warms the store-week cursor and is not counted
                week_seconds.append(time.perf_counter() - started)
        page_seconds = []
        for turn, query in enumerate(["", *REPORT_PAGES]):
            started = time.perf_counter()
            code, _, _ = call("GET", f"{url}/ui/reports/{report_id}{query}", accept="text/html")
            if code != 200:
                raise StoremonError(f"bench: a report page answered {code}; see {log_path}")
            if turn:  # the first warms the templates and is not counted
                page_seconds.append(time.perf_counter() - started)
    _remove_scratch(db)
    peak = usage[0].ru_maxrss * 1024
    return (
        Result("api", "trigger -> Complete through the API", data.describe(), seconds[1:], peak),
        Result(
            "report_page",
            f"a report's page, /ui/reports/ID ({len(REPORT_PAGES)} sorts, searches and pages)",
            data.describe(),
            page_seconds,
            peak,
        ),
        Result(
            "store_week",
            f"one store's week via GET /reports/ID/stores/STORE ({STORE_WEEKS} stores)",
            data.describe(),
            week_seconds,
            peak,
        ),
    )


def _worker_peak() -> int:
    """A worker process's own peak resident memory (run on each worker by Client.run)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def bench_cluster(data: Prepared, buckets: int, workers: int = 2) -> tuple[Result, Result, dict]:
    """`storemon cluster` on a LocalCluster of `workers` processes, from a child process (the
    bench's own stays lean: its children inherit its peak memory): ingest the data set's three
    files into a fresh data folder of `buckets` buckets, then one report. Peak RSS is the
    largest worker's. Also returns each bucket's (polls, seconds), the Parquet's size, and
    whether the CSV is the full load's."""
    child = [
        sys.executable,
        "-m",
        "storemon.bench",
        "cluster-worker",
        str(data.folder),
        str(workers),
        str(buckets),
    ]
    _, _, out = run_child(child)
    facts = json.loads(out)
    described = f"{data.describe()}, local:{workers}, {len(facts['buckets'])} buckets"
    return (
        Result("cluster_ingest", "cluster ingest (one task per file or 64 MB piece)", described,
               [facts["ingest_seconds"]], facts["ingest_peak"]),
        Result("cluster_report", "cluster report (one task per bucket)", described,
               [facts["report_seconds"]], facts["report_peak"]),
        facts,
    )  # fmt: skip


def cluster_worker(folder: Path, workers: int, buckets: int) -> None:
    """Child side of bench_cluster: prints its facts as JSON."""
    from storemon import cluster

    data = folder / "cluster-scratch"
    shutil.rmtree(data, ignore_errors=True)
    files = [folder / name for name in ("store_status.csv", "menu_hours.csv", "timezones.csv")]
    out = folder / "cluster-report.csv"
    with cluster.connect_cluster(f"local:{workers}") as client:
        started = time.perf_counter()
        cluster.ingest(client, data, files, buckets)
        ingest_seconds = time.perf_counter() - started
        ingest_peaks = sorted(client.run(_worker_peak).values(), reverse=True)
        done = cluster.report(client, data, out)
        report_peaks = sorted(client.run(_worker_peak).values(), reverse=True)
    same = out.read_bytes() == (folder / "full-load-report.csv").read_bytes()
    disk = sum(f.stat().st_size for kind in ("polls", "hours", "timezones", "rejected")
               for f in (data / kind).rglob("*.parquet"))  # fmt: skip
    shutil.rmtree(data, ignore_errors=True)
    out.unlink(missing_ok=True)
    facts = {
        "ingest_seconds": ingest_seconds,
        "ingest_peak": ingest_peaks[0],
        "report_seconds": done["seconds"],
        "report_peak": report_peaks[0],
        "worker_peaks": report_peaks,  # each worker's, largest first (peaks only grow)
        "buckets": [(b["polls"], b["seconds"]) for b in done["buckets"]],
        "same": same,
        "disk_bytes": disk,
    }
    print(json.dumps(facts))


def hourly_batches(data: Prepared) -> list[Path]:
    """The data set's polls cut into one CSV per UTC hour, as a poller would send them."""
    folder = data.folder / "hourly"
    if not (folder / "done").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        with duckdb.connect() as con:
            con.execute(
                f"COPY (SELECT *, strftime(date_trunc('hour', timestamp_utc::TIMESTAMP), "
                f"'%Y%m%d%H') AS hour FROM read_csv('{data.folder / 'store_status.csv'}', "
                f"all_varchar = true)) TO '{folder}' (FORMAT csv, HEADER, PARTITION_BY (hour))"
            )
        (folder / "done").write_text("")
    return sorted(folder.glob("hour=*/*.csv"))


def bench_live(data: Prepared, full_report: bytes, as_of: str) -> tuple[Result, Result, bool]:
    """The live week: the polls as hourly batches through POST /polls on a real server whose
    hours and zones were loaded first, a report after every 24th batch. Returns the batch
    answer times, the whole week, and whether the last report equals the full load's."""
    db = data.folder / "live-scratch.duckdb"
    _remove_scratch(db)
    empty = data.folder / "no-polls.csv"
    empty.write_text("store_id,status,timestamp_utc\n")
    run_child(
        storemon(
            "ingest",
            "--db",
            str(db),
            "--status",
            str(empty),
            "--hours",
            str(data.folder / "menu_hours.csv"),
            "--timezones",
            str(data.folder / "timezones.csv"),
            "--allow-empty",
        )
    )
    batches = hourly_batches(data)
    log_path = data.folder / "live-server.log"
    answers: list[float] = []
    with bench_server(db, log_path) as (url, usage):
        token = client_token(db)
        started = time.perf_counter()
        for number, batch in enumerate(batches, 1):
            body = batch.read_bytes()
            clock = time.perf_counter()
            code, _, said = call("POST", f"{url}/polls", token=token, raw=body, media="text/csv")
            answers.append(time.perf_counter() - clock)
            if code != 201:
                raise StoremonError(f"bench: batch {batch.name} answered {code}: {said[:200]!r}")
            if number % 24 == 0:
                wait_for(url, _trigger(url), log_path)
        week = time.perf_counter() - started
        last = wait_for(url, _trigger(url, as_of), log_path)
    _remove_scratch(db)
    rss = usage[0].ru_maxrss * 1024
    described = f"{data.describe()} as {len(batches)} hourly batches"
    return (
        Result("live_batch", "one hour of polls via POST /polls, answer", described, answers, rss),
        Result(
            "live_week",
            "the live week via the API, a report every 24 batches",
            described,
            [week],
            rss,
        ),
        last == full_report,
    )


def full_load_report(data: Prepared) -> tuple[bytes, str]:
    """The report of the whole data set as one full load, as of its latest poll."""
    with duckdb.connect(str(data.db), read_only=True) as con:
        as_of = scalar(
            con, "SELECT strftime(max(timestamp_utc), '%Y-%m-%d %H:%M:%S.%f') FROM polls"
        )
    out = data.folder / "full-load-report.csv"
    run_child(storemon("report", "--db", str(data.db), "--out", str(out), "--as-of", as_of))
    return out.read_bytes(), as_of


def _trigger(url: str, as_of: str | None = None) -> str:
    answer = call("POST", f"{url}/trigger_report", {"as_of": as_of} if as_of else None)
    return json.loads(answer[2])["report_id"]


def _remove_scratch(db: Path) -> None:
    shutil.rmtree(db.parent / "reports", ignore_errors=True)
    for path in (db, Path(f"{db}.wal"), Path(f"{db}.token"), service_file(db)):
        path.unlink(missing_ok=True)


def _seconds_and_peak(runs: list[tuple[float, int]]) -> tuple[list[float], int]:
    return [seconds for seconds, _ in runs], max(rss for _, rss in runs)


# --- the whole benchmark ---------------------------------------------------------------------


def run_bench(stores: int, repeat: int, root: Path, log, buckets: int = DEFAULT_BUCKETS) -> dict:
    sets = datasets(stores)
    data: dict[str, Prepared] = {}
    loads: dict[str, tuple[float, int]] = {}
    for key, dataset in sets.items():
        data[key] = prepare(dataset, root, log)
        log(f"loading {data[key].describe()} ({data[key].csv_mb:,.0f} MB of CSV) ...")
        loads[key] = ingest_once(data[key], data[key].db)
    few = max(1, min(repeat, 3))  # the big data sets take longer per run

    log("timing ingest, report and API on the 1x data ...")
    ingest = bench_ingest(data["1x"], repeat)
    report = bench_report("report", data["1x"], repeat)
    report_furthest = bench_report("report_plus_7d", data["1x"], repeat, furthest=True)
    furthest_ratio = report_furthest.median / report.median
    api, report_page, store_week = bench_api(data["1x"], repeat)
    outage_files = ("09_store_outages", "10_store_outage_summary")
    outages = Result(
        "outages",
        "the report's outages and summary (sql/report/09, 10; part of the report above)",
        data["1x"].describe(),
        [sum(report.steps.get(name, 0) for name in outage_files)],
        report.peak_rss_bytes,
    )
    log("the live week on the 1x data: hourly batches through POST /polls ...")
    live_batch, live_week, same_bytes = bench_live(data["1x"], *full_load_report(data["1x"]))
    log("timing the report on the 10x and 5-minute data ...")
    report_10x = bench_report("report_10x", data["10x"], few)
    report_5min = bench_report("report_5min", data["5min"], few)
    ratio = report_10x.median / report.median

    def once(name: str, workload: str, key: str) -> Result:
        return Result(name, workload, data[key].describe(), [loads[key][0]], loads[key][1])

    log("the cluster (local:2) on the 1x and 10x data ...")
    full_load_report(data["10x"])  # the single-node CSV the cluster's must equal
    clusters = {key: bench_cluster(data[key], buckets) for key in ("1x", "10x")}
    cluster_rows = []
    for key, (ingested, reported, facts) in clusters.items():
        ingested.name, reported.name = f"cluster_ingest_{key}", f"cluster_report_{key}"
        cluster_rows += [(ingested, reported, facts)]
    fit = _linear_fit([point for _, _, facts in cluster_rows for point in facts["buckets"]])
    quarter = 4.9 * GB / 4  # a quarter of the single-process full load's peak at 10x before
    ingest_10x = once("ingest_10x", "load CSVs at 10x (once)", "10x")
    ingest_5min = once("ingest_5min", "load CSVs, polls every 5 min (once)", "5min")
    report_10x.workload += " at 10x"
    report_5min.workload += ", polls every 5 min"
    memory_10x = Result(
        "memory_10x",
        "peak memory of the report process at 10x",
        data["10x"].describe(),
        report_10x.seconds,
        report_10x.peak_rss_bytes,
    )
    checks = [
        (
            ingest,
            "<= 2 s; peak memory <= 500 MB",
            ingest.median <= 2 and ingest.peak_rss_bytes <= 500 * MB,
        ),
        (report, "<= 0.5 s", report.median <= 0.5),
        (
            report_furthest,
            f"<= 2x the normal report (is {furthest_ratio:.1f}x)",
            furthest_ratio <= 2,
        ),
        (outages, "<= 0.1 s", outages.median <= 0.1),
        (api, "<= 1.5 s", api.median <= 1.5),
        (report_page, "<= 150 ms median", report_page.median <= 0.15),
        (store_week, "<= 50 ms median", store_week.median <= 0.05),
        (live_batch, "<= 100 ms median", live_batch.median <= 0.1),
        (
            live_week,
            "<= 20 s; then the same report bytes as one full load "
            f"({'same' if same_bytes else 'DIFFERENT'})",
            live_week.median <= 20 and same_bytes,
        ),
        (
            report_10x,
            f"<= 5 s and <= 11x the 1x time (is {ratio:.1f}x)",
            report_10x.median <= 5 and ratio <= 11,
        ),
        (memory_10x, "<= 2 GB", memory_10x.peak_rss_bytes <= 2 * GB),
        (ingest_10x, "peak memory <= 1.5 GB", ingest_10x.peak_rss_bytes <= 1.5 * GB),
        *[
            check
            for (ingested, reported, facts), key in zip(cluster_rows, ("1x", "10x"), strict=True)
            for check in (
                (
                    ingested,
                    f"peak per worker <= {quarter / GB:.2f} GB at 10x (workers: "
                    + ", ".join(f"{peak / MB:,.0f} MB" for peak in facts["worker_peaks"])
                    + f"); {facts['disk_bytes'] / 1e6:,.0f} MB of Parquet",
                    key == "1x" or ingested.peak_rss_bytes <= quarter,
                ),
                (
                    reported,
                    "the single-node report's bytes "
                    f"({'same' if facts['same'] else 'DIFFERENT'}); per bucket "
                    f"t = {fit['a']:.3f} s + {fit['b']:.3f} s per M polls (R2 {fit['r2']:.2f})",
                    facts["same"]
                    and fit["r2"] >= 0.9
                    and (key == "1x" or reported.peak_rss_bytes <= quarter),
                ),
            )
        ],
        (ingest_5min, "finishes (reported)", True),
        (report_5min, "finishes (reported)", True),
    ]
    results = []
    for result, target, met in checks:
        result.target, result.met = target, met
        results.append(result)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "storemon": __version__,
        "commit": _commit(),
        "duckdb": importlib.metadata.version("duckdb"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB, 1),
        "repeat": repeat,
        "bench_process_peak_rss_bytes": _own_peak_rss(),
        "results": [asdict(r) | {"median": r.median} for r in results],
    }


def _linear_fit(points: list[tuple[int, float]]) -> dict:
    """Least squares t = a + b * (polls / 1e6) over the buckets, and its R2."""
    xs = [polls / 1e6 for polls, _ in points]
    ys = [seconds for _, seconds in points]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs) or 1e-12
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    a = my - b * mx
    residual = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys, strict=True))
    total = sum((y - my) ** 2 for y in ys) or 1e-12
    return {"a": a, "b": b, "r2": 1 - residual / total}


def _own_peak_rss() -> int:
    """This process's own peak resident memory (VmHWM), what a child inherits at exec. (Its
    getrusage figure also holds what this process inherited from its own parent.)"""
    try:
        status = Path("/proc/self/status").read_text()
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        if found is None:
            raise OSError("no VmHWM in /proc/self/status")
        return int(found.group(1)) * 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def render(report: dict, earlier: dict | None = None) -> str:
    """The results as Markdown tables (they read well in a terminal and paste into README)."""
    before = {r["name"]: r["median"] for r in (earlier or {}).get("results", []) if "name" in r}
    head = "| workload | data | runs | median | min-max | peak RSS | target | met |"
    if earlier:
        head += f" before ({earlier.get('commit') or earlier.get('when')}) |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in report["results"]:
        seconds = r["seconds"]
        met = {True: "yes", False: "**NO**", None: ""}[r["met"]]
        row = (
            f"| {r['workload']} | {r['data']} | {len(seconds)} | {r['median']:.2f} s "
            f"| {min(seconds):.2f}-{max(seconds):.2f} s | {r['peak_rss_bytes'] / 2**20:,.0f} MB "
            f"| {r['target']} | {met} |"
        )
        if earlier:
            old = before.get(r["name"])
            row += f" {old:.2f} s |" if old is not None else " |"
        lines.append(row)
    with_steps = [r for r in report["results"] if r["steps"]]
    if with_steps:
        lines += [
            "",
            "| SQL step (median seconds) | "
            + " | ".join(f"{r['name']}: {r['data']}" for r in with_steps)
            + " |",
        ]
        lines.append("|" + " --- |" * (len(with_steps) + 1))
        for step in with_steps[0]["steps"]:
            cells = " | ".join(f"{r['steps'].get(step, 0):.3f}" for r in with_steps)
            lines.append(f"| {step} | {cells} |")
    floor = report.get("bench_process_peak_rss_bytes")
    if floor:
        lines += ["", f"(The bench process itself peaked at {floor / 2**20:,.0f} MB.)"]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """`python -m storemon.bench report-worker DB REPEAT [furthest]` (the child of
    bench_report), `... cluster-worker FOLDER WORKERS BUCKETS` (the child of bench_cluster)."""
    if len(argv) in (3, 4) and argv[0] == "report-worker" and argv[3:] in ([], ["furthest"]):
        report_worker(argv[1], int(argv[2]), furthest=len(argv) == 4)
    elif len(argv) == 4 and argv[0] == "cluster-worker":
        cluster_worker(Path(argv[1]), int(argv[2]), int(argv[3]))
    else:
        raise SystemExit("usage: python -m storemon.bench report-worker DB REPEAT [furthest]")


if __name__ == "__main__":
    main(sys.argv[1:])
