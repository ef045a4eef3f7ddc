"""Load the three CSV files into the database, all or nothing (sql/README.md, the load)."""

from __future__ import annotations

import csv
import dataclasses
import difflib
import os
import re
import secrets
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb

from storemon.alerts import baseline
from storemon.database import (
    one,
    rollback,
    run_all,
    run_sql_files,
    scalar,
    sql_constant,
    sql_dir,
    sql_files,
    sql_text,
)
from storemon.errors import StoremonError
from storemon.rejections import refuse_if_nothing_usable, rejected
from storemon.results import FileLoad, Finding, IngestResult, RejectCount
from storemon.snapshots import write_inputs
from storemon.zones import set_zone_names


@dataclass(frozen=True)
class Source:
    """One input file: the SQL variable prefix, its name in load_summary, rejected_rows and
    batches, and each required column's accepted names."""

    prefix: str
    name: str
    label: str
    columns: dict[str, tuple[str, ...]]


POLLS = Source(
    "status",
    "polls",
    "polls (store_status.csv)",
    {"store_id": ("store_id",), "status": ("status",), "timestamp_utc": ("timestamp_utc",)},
)
HOURS = Source(
    "hours",
    "business_hours",
    "business hours (menu_hours.csv)",
    {
        "store_id": ("store_id",),
        "day": ("dayOfWeek", "day", "day_of_week", "weekday"),
        "start_time_local": ("start_time_local",),
        "end_time_local": ("end_time_local",),
    },
)
TIMEZONES = Source(
    "timezones",
    "timezones",
    "time zones (timezones.csv)",
    {"store_id": ("store_id",), "timezone_str": ("timezone_str",)},
)
SPECIAL_HOURS = Source(
    "special",
    "special_hours",
    "special hours (special_hours.csv)",
    {
        "store_id": ("store_id",),
        "date": ("date", "local_date"),
        "start_time_local": ("start_time_local",),
        "end_time_local": ("end_time_local",),
    },
)
GROUPS = Source(
    "groups",
    "store_groups",
    "store groups (store_groups.csv)",
    {"store_id": ("store_id",), "group": ("group", "group_name")},
)
OPTIONAL = (SPECIAL_HOURS, GROUPS)  # inputs a load may leave out: then it has none


# The longest store_id the loader takes (characters); the routes to a store's page take it too.
STORE_ID_MAX = sql_constant("load/00_parse_macros.sql", "store_id_max_length")

UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
TRANSCODE_CHUNK = 1 << 20  # characters per read when transcoding a UTF-16 file

# The longest line DuckDB reads (file_lines in sql/load/00_parse_macros.sql). It reads a file
# through buffers a little larger than that and holds a buffer's worth of the file in memory: with
# LONG_LINES, up to 1.2 GB (and twice as slow). The load reads each file with SHORT_LINES, and
# only a file with a longer line (which it rejects as too long, like any over 1 MiB) again with
# LONG_LINES: the same rows, the same rejections.
SHORT_LINES = 2 << 20
LONG_LINES = 1 << 30

# While a load runs, DuckDB holds at most this much memory (bytes) and spills the rest to disk:
# to `<database file>.tmp/` (or, for a database in memory, a folder in the system's temporary
# folder), which DuckDB empties as the load's tables are dropped and removes when it closes. So
# the load's memory does not grow with the files (its intermediate tables do): at 10x the bench
# data (1.4 GB of CSV) the process peaks near 1.0 GB, in about the time it took unbounded (4.9
# GB); the 1x load (0.4 GB) never reaches the limit.
LOAD_MEMORY_LIMIT = 768 << 20


@dataclass(frozen=True)
class Input:
    """One input file as the loader reads it."""

    source: Source
    path: Path  # as the caller named it: every message, rejected_rows and load_summary say this
    read_from: Path  # where the bytes are read: `path`, or its UTF-8 transcoding
    encoding: str  # 'utf-8', or 'utf-16 (transcoded)'
    columns: dict[str, int]  # each required column's 1-based position, and `fields`
    newline: str  # \n or \r\n, spelled with backslashes as DuckDB takes it
    has_rows: bool  # a non-blank line after the header
    max_line_size: int = LONG_LINES  # the longest line read, in bytes (SHORT_LINES, LONG_LINES)


def open_input(path: Path, source: Source, scratch: ExitStack, quote_files: bool = True) -> Input:
    """Check one input file and say how to read it. A file that starts with a UTF-16 byte order
    mark (a spreadsheet's "Unicode text") is transcoded to a temporary UTF-8 file, which
    `scratch` deletes when it closes."""
    path = Path(path)
    require_file(path, source)
    with path.open("rb") as handle:
        utf16 = handle.read(2) in UTF16_BOMS
    read_from = _transcode_utf16(path, source, scratch) if utf16 else path
    columns, newline, has_rows = _read_header(read_from, source, quote_files, shown=path)
    encoding = "utf-16 (transcoded)" if utf16 else "utf-8"
    return Input(source, path, read_from, encoding, columns, newline, has_rows)


def require_file(path: Path, source: Source, shown: Path | None = None) -> None:
    """A regular file's path, or an error naming it: also for a name the system cannot take
    (longer than its limit, a NUL byte), which Path.is_file() raises for instead of saying no."""
    try:
        found = path.is_file()
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise StoremonError(f"{source.label}: {shown or path} cannot be opened: {reason}") from None
    if not found:
        raise StoremonError(f"{source.label}: no such file: {shown or path}")


def _transcode_utf16(path: Path, source: Source, scratch: ExitStack) -> Path:
    """`path`'s text as a temporary UTF-8 file, written in chunks (never the whole file in
    memory); deleted when `scratch` closes, also when the load fails."""
    handle, name = tempfile.mkstemp(prefix="storemon-", suffix=".utf8.csv")
    os.close(handle)
    target = Path(name)
    scratch.callback(target.unlink, missing_ok=True)
    try:
        with (
            path.open(encoding="utf-16", newline="") as text,
            target.open("w", encoding="utf-8", newline="") as out,
        ):
            while chunk := text.read(TRANSCODE_CHUNK):
                out.write(chunk)
    except UnicodeError as error:
        why = error.reason if isinstance(error, UnicodeDecodeError) else str(error)
        raise StoremonError(
            f"{source.label}: {path} starts with a UTF-16 byte order mark but is not UTF-16 text "
            f"({why}); save it as CSV UTF-8 and load again (nothing was changed)"
        ) from None
    return target


def read_header(
    path: Path, source: Source, quote_files: bool = True, shown: Path | None = None
) -> tuple[dict[str, int], str]:
    """Map each required column to its 1-based position, plus `fields`, the header's width;
    and say how the file ends its lines (CRLF or LF). See _read_header."""
    columns, newline, _ = _read_header(Path(path), source, quote_files, shown)
    return columns, newline


def _read_header(
    path: Path, source: Source, quote_files: bool = True, shown: Path | None = None
) -> tuple[dict[str, int], str, bool]:
    """read_header's answer, and whether a non-blank line follows the header.

    Column names match without regard to case or surrounding blanks; extra columns are ignored.
    A required column named twice (or by two of its accepted names) is ambiguous: refused.
    Messages name the file as `shown` (default: `path`). With `quote_files` false, no error
    quotes the file's content (the service's callers may not be allowed to read the file).
    """
    shown = shown or path
    require_file(path, source, shown)
    with path.open("rb") as handle:
        # DuckDB takes the newline spelled with backslashes
        newline = r"\r\n" if handle.readline().endswith(b"\r\n") else r"\n"
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        header = next(csv.reader(handle), None)
        # Blank lines are not rows (as in csv_records): a file of a header and blank lines has none.
        has_rows = any(line.strip(" \t\r\n") for line in handle)
    if not header or not any(name.strip() for name in header):
        raise StoremonError(f"{source.label}: {shown} is empty; expected a header row first")
    if len(header) == 1 and "\t" in header[0]:
        raise StoremonError(
            f"{source.label}: {shown} is tab-separated (its header has tabs and no commas), as a "
            'spreadsheet\'s "Unicode text" export is; storemon reads comma-separated files: '
            "save it as CSV (comma-delimited) and load again (nothing was changed)"
        )
    named = [name.strip().lower() for name in header]
    accepted = {n.lower() for names in source.columns.values() for n in names}
    found: dict[str, int] = {}
    for column, names in source.columns.items():
        spellings = {n.lower() for n in names}
        positions = [i for i, name in enumerate(named, 1) if name in spellings]
        if not positions:
            raise StoremonError(
                f"{source.label}: {shown} has no column {_accepted(names)}"
                + _closest(names, header, named, accepted, quote_files)
            )
        if len(positions) > 1:
            # our own spelling of each, not the file's text (which quote_files may forbid)
            spelled = {n.lower(): n for n in names}
            at = " and ".join(f"{spelled[named[i - 1]]!r} (field {i})" for i in positions)
            raise StoremonError(
                f"{source.label}: {shown} names the column {names[0]!r} more than once: {at}; "
                "which one to read is ambiguous: keep one and load again (nothing was changed)"
            )
        found[column] = positions[0]
    found["fields"] = len(header)
    return found, newline, has_rows


def _accepted(names: tuple[str, ...]) -> str:
    """'timestamp_utc', or 'dayOfWeek' (also accepted: 'day', 'day_of_week' or 'weekday')."""
    first, *others = (repr(n) for n in names)
    if not others:
        return first
    listed = " or ".join([", ".join(others[:-1]), others[-1]] if len(others) > 1 else others)
    return f"{first} (also accepted: {listed})"


def _closest(
    names: tuple[str, ...],
    header: list[str],
    named: list[str],
    accepted: set[str],
    quote_files: bool,
) -> str:
    """`; did you mean 'X'?` for the header most like one of `names` (not one that names another
    required column), and what line 1 has. Nothing when the file may not be quoted."""
    if not quote_files:
        return ""
    candidates = {name: original.strip() for name, original in zip(named, header, strict=True)}
    for taken in accepted:
        candidates.pop(taken, None)
    best = max(
        (
            (difflib.SequenceMatcher(None, n.lower(), name).ratio(), name)
            for n in names
            for name in difflib.get_close_matches(n.lower(), list(candidates), n=1)
        ),
        default=None,
    )
    guess = f"; did you mean {candidates[best[1]]!r}?" if best else ""
    return f"{guess} (line 1 has: {', '.join(repr(h) for h in header)})"


QUALITY_COLUMNS = "finding, source, unit, count, examples, meaning"


def ingest(
    con: duckdb.DuckDBPyConnection,
    status: Path,
    hours: Path,
    timezones: Path,
    log: Callable[[str], None] = lambda _: None,
    quote_files: bool = True,
    allow_empty: bool = False,
    special_hours: Path | None = None,
    groups: Path | None = None,
) -> IngestResult:
    """Replace the loaded data with these files, in one transaction: the three required ones
    and, optionally, special hours and store groups (without one, the data has none).

    On any error nothing changes: the previous data stays as it was. With `quote_files` false,
    errors never quote the files' content (see read_header). A file with a header and no rows
    is refused unless `allow_empty`: it would replace the loaded data with nothing.
    """
    started = time.perf_counter()
    files = [(POLLS, Path(status)), (HOURS, Path(hours)), (TIMEZONES, Path(timezones))]
    if special_hours is not None:
        files.append((SPECIAL_HOURS, Path(special_hours)))
    if groups is not None:
        files.append((GROUPS, Path(groups)))
    with ExitStack() as scratch:  # transcoded copies of UTF-16 files, deleted however it ends
        inputs = [open_input(path, source, scratch, quote_files) for source, path in files]
        for item in inputs:
            if not item.has_rows and not allow_empty:
                raise StoremonError(
                    f"{item.source.label}: {item.path} has a header and no rows: nothing was "
                    "loaded; pass --allow-empty to load it anyway"
                )
        # each file is read with SHORT_LINES, and again with LONG_LINES if it has a longer line
        inputs = [dataclasses.replace(item, max_line_size=SHORT_LINES) for item in inputs]
        with load_memory(con):
            return _replace_data(con, inputs, log, quote_files, started, allow_empty)


def use_input(con: duckdb.DuckDBPyConnection, item: Input) -> None:
    """Set the variables its source's parsing file (sql/load/1x_*_rows.sql) reads."""
    prefix = item.source.prefix
    if item.source is TIMEZONES:
        set_zone_names(con)
    con.execute(f"SET VARIABLE {prefix}_file = ?", [str(item.path)])
    con.execute(f"SET VARIABLE {prefix}_read_from = ?", [str(item.read_from)])
    con.execute(f"SET VARIABLE {prefix}_encoding = ?", [item.encoding])
    con.execute(f"SET VARIABLE {prefix}_newline = ?", [item.newline])
    con.execute(f"SET VARIABLE {prefix}_columns = ?", [item.columns])
    con.execute(f"SET VARIABLE {prefix}_max_line_size = ?", [item.max_line_size])


def forget_input(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Unset every variable of `source` (use_input's and its parsing file's): an optional input
    left out (special hours, groups) then reads as none, whatever an earlier load or batch on this
    connection named."""
    names = con.execute(
        "SELECT name FROM duckdb_variables() WHERE starts_with(name, ?)", [f"{source.prefix}_"]
    ).fetchall()
    for (name,) in names:
        con.execute(f'RESET VARIABLE "{name}"')


@contextmanager
def load_memory(con: duckdb.DuckDBPyConnection, limit: int = LOAD_MEMORY_LIMIT) -> Iterator[None]:
    """Hold DuckDB's memory to `limit` bytes (spilling the rest to disk) for the duration, and
    put the setting back after. The limit is the database's, not the connection's: a service's
    reports running meanwhile share it (they spill too, as they would on a smaller machine)."""
    before = scalar(con, "SELECT current_setting('memory_limit')")
    _spill_to_system_temp(con)
    if _setting_bytes(before) > limit:
        _set_memory_limit(con, limit)
    try:
        yield
    finally:
        if scalar(con, "SELECT current_setting('memory_limit')") != before:
            # It reads back rounded ('18.8 GiB'): DuckDB's default comes back exactly with
            # RESET, a limit someone set with its rounded value.
            con.execute("RESET memory_limit")
            if scalar(con, "SELECT current_setting('memory_limit')") != before:
                con.execute(f"SET memory_limit = '{before}'")


def _set_memory_limit(con: duckdb.DuckDBPyConnection, limit: float) -> None:
    con.execute(f"SET memory_limit = '{int(limit) >> 20}MiB'")


def _memory_limit(con: duckdb.DuckDBPyConnection) -> float:
    """DuckDB's memory limit now, in bytes."""
    return _setting_bytes(scalar(con, "SELECT current_setting('memory_limit')"))


def _spill_to_system_temp(con: duckdb.DuckDBPyConnection) -> None:
    """A database in memory spills to `.tmp` in the working directory by default (a file's, to
    `<file>.tmp` beside it): send it to the system's temporary folder instead."""
    in_memory, folder = one(
        con,
        "SELECT path IS NULL, current_setting('temp_directory') FROM duckdb_databases() "
        "WHERE database_name = current_database()",
    )
    if in_memory and folder in (".tmp", ""):
        spill = Path(tempfile.gettempdir()) / f"storemon-{os.getpid()}-{secrets.token_hex(4)}.tmp"
        with suppress(duckdb.Error):  # it has spilled to .tmp before: it keeps that folder
            con.execute(f"SET temp_directory = '{sql_text(spill)}'")


def _setting_bytes(text: str) -> float:
    """DuckDB's spelling of an amount of memory ('18.8 GiB', '953.6 MiB', '512 bytes') in bytes."""
    found = re.fullmatch(r"\s*([\d.]+)\s*([KMGTP]?i?B|bytes?)?\s*", text, re.IGNORECASE)
    if not found:
        return float("inf")
    unit = (found.group(2) or "B").upper().rstrip("S")
    scale = 1024 if "I" in unit else 1000
    power = "BKMGTP".index(unit[0]) if unit[0] in "KMGTP" else 0
    return float(found.group(1)) * scale**power


# sql/load files from this prefix on make the stored tables, in the load's transaction; those
# before it make only macros and this connection's TEMP tables: the parsing of each file.
TABLES_FROM = "20"
# The file of sql/load that parses each source (by its variable prefix).
PARSE_FILES = {
    "status": "10_poll_rows.sql",
    "hours": "11_hours_rows.sql",
    "timezones": "12_timezone_rows.sql",
    "special": "13_special_hours_rows.sql",
    "groups": "14_group_rows.sql",
}


# An optional input's parsing file, and the table of rows it makes (empty when it is left out).
LEFT_OUT_ROWS = {
    "13_special_hours_rows.sql": "special_hours_rows",
    "14_group_rows.sql": "group_rows",
}
_NO_ROWS: dict[tuple[Path, int], str] = {}


def no_rows(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    """An optional input left out: `table`, empty, in the shape its parsing file makes. The file
    runs the first time (it reads no file: forget_input) and its shape is kept for this process;
    planning it costs a small load a tenth of its time, and most loads leave the inputs out."""
    key = (path, path.stat().st_mtime_ns)
    made = _NO_ROWS.get(key)
    if made is None:
        run_all(con, [path])
        columns = con.execute(f"DESCRIBE {table}").fetchall()
        _NO_ROWS[key] = (
            f"CREATE OR REPLACE TEMP TABLE {table} ("
            + ", ".join(f'"{name}" {kind}' for name, kind, *_ in columns)
            + ")"
        )
        return
    con.execute(made)


def _replace_data(
    con: duckdb.DuckDBPyConnection,
    inputs: list[Input],
    log: Callable[[str], None],
    quote_files: bool,
    started: float,
    allow_empty: bool = False,
) -> IngestResult:
    """Parse the files, then replace the stored tables in one transaction.

    The parsing runs before the transaction: it changes nothing stored, and a TEMP table it drops
    once used (a file's numbered lines: the whole file's text) gives its memory back at once; in
    the transaction it would be kept to the end, for a rollback. `load_time` fixes the load's
    instant for both ("timestamp in the future", load_summary.loaded_at)."""
    inputs = list(inputs)  # a file read again with LONG_LINES is replaced in it
    steps = sql_files("load")
    parsing = [path for path in steps if path.name < TABLES_FROM]
    making = [path for path in steps if path.name >= TABLES_FROM]
    con.execute("SET VARIABLE load_time = now()")
    try:
        for item in inputs:
            use_input(con, item)
        for source in OPTIONAL:  # left out: its parsing file (13, 14) then reads none
            if all(item.source is not source for item in inputs):
                forget_input(con, source)
        con.execute("SET VARIABLE batch_id = ?", [secrets.token_urlsafe(16)])  # the load's
        for item in inputs:
            transcoded = f", {item.encoding}" if item.read_from != item.path else ""
            log(
                f"  {item.source.label}: {item.path} "
                f"({item.path.stat().st_size / 1e6:,.1f} MB{transcoded})"
            )
        step_started = time.perf_counter()

        def done(path: Path) -> None:
            nonlocal step_started
            log(f"  {path.stem:<22} done in {time.perf_counter() - step_started:6.2f} s")
            step_started = time.perf_counter()

        try:
            given = {PARSE_FILES[item.source.prefix] for item in inputs}
            for path in parsing:
                if path.name in LEFT_OUT_ROWS and path.name not in given:
                    no_rows(con, path, LEFT_OUT_ROWS[path.name])
                else:
                    parse_file(con, path, inputs, log)
                done(path)
            con.execute("BEGIN TRANSACTION")
            try:
                for path in run_sql_files(con, making):
                    done(path)
                baseline(con)  # who is down now: the alerts' state, and no event
                done(sql_dir() / "alerts" / "baseline")
                summary = [
                    FileLoad(*row)
                    for row in con.execute(
                        "SELECT source, file, data_rows, kept_rows, duplicates, rejected "
                        "FROM load_summary"
                    ).fetchall()
                ]
                reasons = rejected(con)
                if not quote_files:
                    reasons = [r.unquoted() for r in reasons]
                if not allow_empty:
                    _refuse_files_of_nothing_usable(inputs, summary, reasons)
                stores = scalar(con, "SELECT count(*) FROM stores")
                quality = [
                    Finding(*row)
                    for row in con.execute(f"SELECT {QUALITY_COLUMNS} FROM data_quality").fetchall()
                ]
                con.execute("COMMIT")
            except BaseException:
                rollback(con)
                raise
        except StoremonError as error:
            if not quote_files:
                log(f"  load failed: {error}")  # the service's log, for its owner
            raise _explain(error, inputs, quote_files) from error.__cause__
    finally:
        con.execute("RESET VARIABLE load_time")
    write_inputs(con)  # for analysts, while a service holds the database
    return IngestResult(
        stores=stores,
        seconds=time.perf_counter() - started,
        files=summary,
        rejected=reasons,
        quality=quality,
    )


def _refuse_files_of_nothing_usable(
    inputs: list[Input], summary: list[FileLoad], reasons: list[RejectCount]
) -> None:
    """A file with rows none of which is usable would replace the data with nothing (or, for
    hours, open every store 24x7): refused like one with a header and no rows."""
    data_rows = {row.source: row.data_rows for row in summary}
    for item in inputs:
        refuse_if_nothing_usable(
            item.source.label,
            item.path,
            data_rows[item.source.name],
            [r for r in reasons if r.source == item.source.name],
        )


_WITH_PARSE_MACROS: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()


def parse_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Make the parsing macros (sql/load/00_parse_macros.sql) on `con`, unless this process made
    them on it before: they are TEMP, each connection and cursor has its own, and making them
    costs about 13 ms, a sixth of a small batch (the service appends on one cursor). Call it
    outside a transaction: a rollback would take them back."""
    if con not in _WITH_PARSE_MACROS:
        run_all(con, [sql_dir() / "load" / "00_parse_macros.sql"])
        _WITH_PARSE_MACROS.add(con)


def parse_file(
    con: duckdb.DuckDBPyConnection, path: Path, inputs: list[Input], log: Callable[[str], None]
) -> None:
    """Run one parsing file. When it reads a file with SHORT_LINES and a line is longer (DuckDB
    fails the read), read it again with LONG_LINES. Its read buffer alone may then take 1.2 GiB:
    the memory limit is raised by that much for the rest of the load (load_memory puts it back)."""
    while True:
        try:
            run_all(con, [path])
            return
        except StoremonError as error:
            item = next((i for i in inputs if PARSE_FILES.get(i.source.prefix) == path.name), None)
            if item is None or item.max_line_size >= LONG_LINES or not _line_too_long(error):
                raise
            log(
                f"  {item.source.label}: a line is longer than {SHORT_LINES >> 20} MiB: "
                f"reading {item.path} again for lines of up to {LONG_LINES >> 30} GiB"
            )
            again = dataclasses.replace(item, max_line_size=LONG_LINES)
            inputs[inputs.index(item)] = again
            use_input(con, again)
            _set_memory_limit(con, _memory_limit(con) + 1.5 * LONG_LINES)


def _line_too_long(error: StoremonError) -> bool:
    """Whether DuckDB failed a read because a line is longer than the reading allowed."""
    text = str(error.__cause__ or error).lower()
    return "maximum line size" in text or "does not support a full read" in text


def _explain(error: StoremonError, inputs: list[Input], quote_files: bool = True) -> StoremonError:
    """Say which file and line a CSV-level failure is about, in words a user can act on.
    DuckDB's own message may quote the file, so without `quote_files` it is not passed on."""
    text = str(error.__cause__ or error)
    line = re.search(r"CSV Error on Line: (\d+)", text)
    for item in inputs:
        if line and f"file = {item.read_from}\n" in f"{text}\n":
            if "maximum line size" in text.lower():
                problem = "is longer than 1 GiB, more than storemon reads"
            elif "unicode" in text.lower():
                problem = "is not UTF-8 text"
            else:
                problem = "cannot be read"
            return StoremonError(
                f"{item.source.label}: line {line.group(1)} of {item.path} {problem}; "
                "fix or remove it and load again (nothing was changed)"
            )
    if not quote_files:
        return StoremonError(
            f"{str(error).split(' failed:', 1)[0]} failed on these files; nothing was changed (the "
            "service's log has DuckDB's message)"
        )
    return error
