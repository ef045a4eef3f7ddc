"""Run the report pipeline (sql/report/*.sql) and write its result (sql/README.md, rule 7)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import duckdb

from storemon.database import (
    copy_atomically,
    has_table,
    one,
    run_all,
    run_sql_files,
    sql_constant,
    sql_files,
)
from storemon.errors import BadAsOf, StoremonError

COLUMNS = (
    "store_id",
    "uptime_last_hour",
    "uptime_last_day",
    "uptime_last_week",
    "downtime_last_hour",
    "downtime_last_day",
    "downtime_last_week",
)


# sql/README.md, rule 1: a report may be asked for as of an instant from the first poll
# to the latest poll + 7 days (sql/report/01_report_window.sql refuses any other; the reach is
# its macro's).
AS_OF_REACH = timedelta(hours=sql_constant("report/00_report_macros.sql", "as_of_reach_hours"))
AS_OF_MAX_LENGTH = 40
# An ISO 8601 / RFC 3339 instant: date, `T` or a blank, time to the second or finer; UTC unless
# it ends in an offset (`Z`, `+05:30`, `+0530`) or ` UTC`.
AS_OF_PATTERN = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?"
    r"( ?UTC|[zZ]|[+-]([01]\d|2[0-3]):?[0-5]\d)?$"
)
_AS_OF = re.compile(AS_OF_PATTERN)


def parse_as_of(text: str, name: str = "as_of") -> datetime:
    """A strict ISO 8601 instant, `YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC unless it names an offset.

    Fraction digits past the microsecond are dropped, as the loader drops them."""
    if len(text) > AS_OF_MAX_LENGTH or not _AS_OF.fullmatch(text):
        shown = text if len(text) <= AS_OF_MAX_LENGTH else text[:AS_OF_MAX_LENGTH] + "..."
        raise StoremonError(
            f'{name} "{shown}" is not an instant: expected "YYYY-MM-DD HH:MM:SS" in UTC '
            '(or ISO 8601 with "T", a fraction and an offset, e.g. "2023-01-25T18:13:22Z")'
        )
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", text.removesuffix("UTC").strip())
    try:
        moment = datetime.fromisoformat(cleaned.replace("z", "Z"))
    except ValueError as error:  # e.g. month 13
        raise StoremonError(f'{name} "{text}" is not a real instant: {error}') from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def report_files(first: str, last: str) -> list[Path]:
    """sql/report's files from `first` up to (not including) `last`, by number ("00", "05")."""
    return [path for path in sql_files("report") if first <= path.name < last]


def refuse_as_of(as_of: datetime, polls: tuple[int, int] | None) -> None:
    """Refuse an `as_of` the report would refuse, before any report runs, in the report's own
    words: sql/report/01_report_window.sql, run on the first and latest poll alone (`polls`,
    epoch us; None: no polls). The rule's one home is that file; this only asks it early
    (about 2 ms: one in-memory connection, its macros made once)."""
    with _window_lock:
        con = _window_connection()
        con.execute(
            "CREATE OR REPLACE TEMP TABLE polls AS SELECT make_timestamptz(us) AS timestamp_utc "
            "FROM unnest(?::BIGINT[]) AS instants(us)",
            [list(polls) if polls else []],
        )
        con.execute("SET VARIABLE as_of = ?::TIMESTAMPTZ", [as_of.isoformat()])
        try:
            run_all(con, report_files("01", "02"))
        except StoremonError as error:
            raise _own_words(error) from error.__cause__


_window_lock = threading.Lock()


@cache
def _window_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the report's macros, for refuse_as_of alone."""
    con = duckdb.connect()
    run_all(con, report_files("00", "01"))
    return con


def _own_words(error: StoremonError) -> StoremonError:
    """report_window's own words for an as_of it refuses, without the engine's prefix."""
    refused = error.__cause__
    if isinstance(refused, duckdb.InvalidInputException) and "as_of" in str(refused):
        return BadAsOf(str(refused).removeprefix("Invalid Input Error: "))
    return error


NOTE_COLUMNS = "finding, stores, examples, meaning"


@dataclass(frozen=True)
class ReportRun:
    as_of: str | None  # ISO text in UTC; None when there are no polls at all
    stores: int
    steps: list[tuple[str, float]]  # (SQL file, seconds)
    seconds: float
    notes: list[tuple]  # report_notes: (finding, stores, examples, meaning)


def run_report(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> ReportRun:
    """Build the report's tables (TEMP, so they belong to this connection alone): sql/report/,
    then beside it the roll-ups per group (sql/rollups/).

    `store_report` holds the result afterwards.
    """
    if not has_table(con, "polls"):
        raise StoremonError("no data loaded yet: run `storemon ingest` first")
    started = time.perf_counter()
    con.execute("SET VARIABLE as_of = ?::TIMESTAMPTZ", [as_of.isoformat() if as_of else None])
    steps = []
    step_started = started
    try:
        for done in run_sql_files(con, sql_files("report") + sql_files("rollups")):
            steps.append((done.stem, time.perf_counter() - step_started))
            log(f"  {done.stem:<22} {steps[-1][1]:6.2f} s")
            step_started = time.perf_counter()
    except StoremonError as error:
        raise _own_words(error) from error.__cause__
    as_of_text, stores = one(
        con,
        "SELECT strftime(as_of, '%Y-%m-%d %H:%M:%S.%f UTC'), (SELECT count(*) FROM store_report)"
        " FROM report_window",
    )
    notes = con.execute(f"SELECT {NOTE_COLUMNS} FROM report_notes").fetchall()
    return ReportRun(as_of_text, stores, steps, time.perf_counter() - started, notes)


# What a finished report is made of, by the name its files take after the report's own
# (`ID.csv`, `ID.outages.csv`, ...): the report (sql/README.md, rule 7: its seven columns), and
# beside it, never inside it, its outages and their summary per store (rule 8) and its roll-ups
# per group (rule 10).
OUTPUTS = {
    "": "store_report",
    "outages": "store_outages",
    "summary": "store_outage_summary",
    "rollups": "group_rollups",
}
FORMATS = {".csv": "FORMAT csv, HEADER", ".parquet": "FORMAT parquet"}
# The order each relation's rows are written in (as its SQL file orders them), wherever they are
# put together again from rows kept apart: the cluster's tasks, a key's filtered answer.
ORDER_BY = {
    "store_report": "store_id",
    "store_outages": "store_id, started_at",
    "store_outage_summary": "store_id",
    "group_rollups": '"group"',
    "report_note_stores": "finding, store_id",
    "report_store_groups": 'store_id, "group"',
}


def write_report(
    con: duckdb.DuckDBPyConnection, path: Path, relation: str = "store_report"
) -> None:
    """Write `relation` (the report, by default) as CSV or Parquet (by the file's suffix),
    atomically: a reader sees the old file or the whole new one, never a part."""
    path = Path(path)
    options = copy_options(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    copy_atomically(con, relation, path, options)


def copy_options(path: Path) -> str:
    """The COPY options a report's file is written with, by its suffix (.csv or .parquet)."""
    if Path(path).suffix not in FORMATS:
        raise StoremonError(f"{path}: reports are written as .csv or .parquet")
    return FORMATS[Path(path).suffix]
