"""Fixtures: a fresh database per test, and a one-call way to load rows and get the report."""

from __future__ import annotations

import compileall
import csv
import gc
import os
import shutil
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

import msgspec
import pytest

import storemon
from storemon.append import append_batch
from storemon.database import connect
from storemon.generate import generate
from storemon.ingest import ingest
from storemon.keys import add_key
from storemon.limits import usable_cores
from storemon.report import COLUMNS, run_report
from storemon.results import BatchAnswer, IngestResult

# The suite's Dask processes (its clusters, the bench's, and a command's own local cluster) keep
# quiet while they wait: without the workers' sampling profiler, with a 1 s event-loop check and
# a 5 s system monitor, a scheduler and two workers idle on 0.05 CPU-seconds a second, not 0.22.
# Set before anything imports Dask, and inherited by every process the tests start.
os.environ.update(
    DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED="False",
    DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL="1s",
    DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL="5s",
)

# How many examples each property test draws, as a multiple of its own count: the suite keeps to
# its time on two cores; `just properties 10` runs ten times as many.
EXAMPLES_SCALE = float(os.environ.get("STOREMON_EXAMPLES_SCALE", "1"))


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto` (pyproject.toml): one test process a core this process may use. (One more, to
    fill the time tests spend waiting, cost more than it gained: on two cores, two full runs in
    turn each way, 2 processes took 13-16% less CPU and 4-7% less time than 3.)"""
    return usable_cores()


def pytest_configure(config) -> None:
    """The package's bytecode, compiled once before the test processes start: where
    PYTHONDONTWRITEBYTECODE is set (as on this project's machines), each of the hundred-odd
    processes the tests start (servers, commands, cluster workers) would compile it again."""
    if not hasattr(config, "workerinput"):  # the controlling process, or a run without xdist
        compileall.compile_dir(Path(storemon.__file__).parent, quiet=1)


def pytest_collection_finish(session) -> None:
    """What the imports and collection made lives as long as the test process: kept out of the
    garbage collector's passes (gc.freeze), which then run less often. The tests make many small
    objects (hypothesis, the in-process app) and a tenth of their time went to those passes."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def pytest_runtest_setup(item) -> None:
    """The tests that share what is costly to make (a server and browser, a cluster, a large
    database) run in one test process each (xdist_group, pyproject.toml: --dist loadgroup). A
    run that spreads them, making it several times over, fails them, saying so."""
    if getattr(item.config.option, "loadgroup", False) and not _grouped(item):
        pytest.fail(
            "pytest-xdist did not group this test marked xdist_group: is this pytest one it "
            "does not support? (pyproject.toml says which)",
            pytrace=False,
        )


def _grouped(item) -> bool:
    """Whether a test marked xdist_group carries its group in its id, as pytest-xdist's
    loadgroup sends tests to the test processes by (a test not marked needs none)."""
    if item.get_closest_marker("xdist_group") is None:
        return True
    return item.nodeid.rfind("@") > item.nodeid.rfind("]")


def pytest_unconfigure(config) -> None:
    gc.unfreeze()  # so that what is left is freed at exit, as DuckDB's bindings expect


def examples(count: int) -> int:
    """A property test's number of examples, scaled by STOREMON_EXAMPLES_SCALE."""
    return max(1, round(count * EXAMPLES_SCALE))


OUTAGE_NAMES = (
    "started_at",
    "ended_at",
    "started_at_local",
    "ended_at_local",
    "down_us",
    "down_us_last_day",
    "down_us_last_hour",
    "polls",
    "ongoing",
    "began_before_week",
)
OUTAGE_FIELDS = ", ".join(
    f"epoch_us({name})" if name in ("started_at", "ended_at") else name for name in OUTAGE_NAMES
)
STATUS_HEADER = ("store_id", "status", "timestamp_utc")
HOURS_HEADER = ("store_id", "dayOfWeek", "start_time_local", "end_time_local")
ZONES_HEADER = ("store_id", "timezone_str")
SPECIAL_HEADER = ("store_id", "date", "start_time_local", "end_time_local")
GROUPS_HEADER = ("store_id", "group")
# The stored data, by store_id (keys are the load's own numbering).
TABLES = {
    "polls": "SELECT store_id, epoch_us(timestamp_utc), active FROM polls",
    "business_hours": "SELECT store_id, day_of_week, start_local, end_local FROM business_hours",
    "store_timezones": "SELECT store_id, timezone FROM store_timezones",
    "special_hours": "SELECT store_id, local_date, start_local, end_local FROM special_hours",
    "store_groups": "SELECT store_id, group_name FROM store_groups",
}


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable[object]]) -> Path:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)
    return path


def load_rows(result: IngestResult) -> list[tuple]:
    """A load's files as rows: (source, file, data_rows, kept_rows, duplicates, rejected)."""
    return [msgspec.structs.astuple(row) for row in result.files]


class Workspace:
    """A temporary folder with its own database, and helpers to fill it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db = root / "storemon.duckdb"
        self.con = connect(self.db)

    def files(self, status=(), hours=(), zones=(), headers=None) -> tuple[Path, Path, Path]:
        status_header, hours_header, zones_header = headers or (
            STATUS_HEADER,
            HOURS_HEADER,
            ZONES_HEADER,
        )
        return (
            write_csv(self.root / "store_status.csv", status_header, status),
            write_csv(self.root / "menu_hours.csv", hours_header, hours),
            write_csv(self.root / "timezones.csv", zones_header, zones),
        )

    def load(self, status=(), hours=(), zones=(), special=None, groups=None) -> IngestResult:
        # An input left out is a header-only file: allowed here, refused by default. Special
        # hours (rows of store_id, date, start, end; "" for a closed day's times) and groups
        # (rows of store_id, group) only if given.
        special_file = groups_file = None
        if special is not None:
            special_file = write_csv(self.root / "special_hours.csv", SPECIAL_HEADER, special)
        if groups is not None:
            groups_file = write_csv(self.root / "store_groups.csv", GROUPS_HEADER, groups)
        return ingest(
            self.con,
            *self.files(status, hours, zones),
            allow_empty=True,
            special_hours=special_file,
            groups=groups_file,
        )

    def append(self, kind: str, rows, name: str = "batch.csv", **options) -> BatchAnswer:
        """Append `rows` as one batch of `kind` (polls, hours, timezones, special_hours or
        groups)."""
        header = {
            "polls": STATUS_HEADER,
            "hours": HOURS_HEADER,
            "timezones": ZONES_HEADER,
            "special_hours": SPECIAL_HEADER,
            "groups": GROUPS_HEADER,
        }[kind]
        return append_batch(self.con, kind, write_csv(self.root / name, header, rows), **options)

    def report(self, as_of: datetime | None = None) -> dict[str, dict[str, float]]:
        run_report(self.con, as_of)
        rows = self.con.execute("SELECT * FROM store_report").fetchall()
        return {row[0]: dict(zip(COLUMNS[1:], map(float, row[1:]), strict=True)) for row in rows}

    def outages(self) -> dict[str, list[dict]]:
        """store_outages after report(): store_id -> its outages, instants as epoch us."""
        rows = self.con.execute(
            f"SELECT store_id, {OUTAGE_FIELDS} FROM store_outages ORDER BY store_id, started_at"
        ).fetchall()
        found: dict[str, list[dict]] = {}
        for store_id, *values in rows:
            found.setdefault(store_id, []).append(dict(zip(OUTAGE_NAMES, values, strict=True)))
        return found

    def outage_summary(self) -> dict[str, dict]:
        """store_outage_summary after report(): store_id -> its row (hours as floats)."""
        names = [d[0] for d in self.con.execute("SELECT * FROM store_outage_summary").description]
        rows = self.con.execute(
            "SELECT * REPLACE (epoch_us(last_outage_started_at) AS last_outage_started_at) "
            "FROM store_outage_summary"
        ).fetchall()
        return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in rows}

    def rollups(self) -> dict[str, dict]:
        """group_rollups after report(): group -> its row."""
        result = self.con.execute("SELECT * FROM group_rollups")
        names = [column[0] for column in result.description]
        return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in result.fetchall()}

    def notes(self) -> dict[str, tuple[int, list[str]]]:
        """report_notes after report(): finding -> (stores, examples)."""
        rows = self.query("SELECT finding, stores, examples FROM report_notes")
        return {finding: (stores, examples) for finding, stores, examples in rows}

    def tables(self) -> dict[str, list[tuple]]:
        """The stored polls, hours, zones, special hours, groups and stores, by store_id,
        sorted."""
        found = {
            name: self.query(f"{query} JOIN stores USING (store_key) ORDER BY ALL")
            for name, query in TABLES.items()
        }
        found["stores"] = self.query("SELECT store_id FROM stores ORDER BY ALL")
        return found

    def query(self, sql: str, params=None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()


def two_owners(folder: Path) -> tuple[Path, str]:
    """A database of three stores, two of owner:a and one of owner:b, polled at 10:00 and 11:00
    on 2023-01-12; and the key of owner:a (named owner-a)."""
    ws = Workspace(folder)
    ws.load(
        status=[(s, "active", f"2023-01-12 {h:02d}:00:00") for s in ("a1", "a2", "b1")
                for h in (10, 11)],
        groups=[("a1", "owner:a"), ("a2", "owner:a"), ("b1", "owner:b")],
    )  # fmt: skip
    key = add_key(ws.con, "owner-a", ["owner:a"])
    ws.con.close()
    return ws.db, key


def build_db(folder: Path, stores: int) -> Path:
    """A database file loaded with a generated week of `stores` stores."""
    files = generate(folder, stores=stores, days=7, seed=5)
    db = folder / "storemon.duckdb"
    with connect(db) as con:
        ingest(con, files.status, files.hours, files.timezones)
    return db


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> Path:
    """200 stores, built once (per test process); tests change copies of it (`db`)."""
    return build_db(tmp_path_factory.mktemp("small"), stores=200)


@pytest.fixture(scope="session")
def large_db(tmp_path_factory) -> Path:
    """6,000 stores: a report takes a noticeable fraction of a second. Built once per test
    process; the tests that use it share one (xdist_group "large_db") and change copies."""
    return build_db(tmp_path_factory.mktemp("large"), stores=6000)


@pytest.fixture
def db(small_db, tmp_path) -> Path:
    """A copy of small_db of the test's own, to change."""
    copy = tmp_path / "storemon.duckdb"
    shutil.copy(small_db, copy)
    return copy


@pytest.fixture
def workspace(tmp_path: Path) -> Callable[..., Workspace]:
    ws = Workspace(tmp_path)
    yield ws
    ws.con.close()
