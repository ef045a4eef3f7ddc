"""The DuckDB database file and the versioned SQL files that run in it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from storemon.errors import DatabaseBusy, StoremonError

DEFAULT_DB = Path("data/storemon.duckdb")
# The analysts' `duckdb` shell (the duckdb-cli package, newest 1.5.x) cannot read DuckDB 2.0's
# own storage format, so storemon writes its database file in the 1.5 format.
SHELL_STORAGE = "v1.5.0"


@cache
def sql_dir() -> Path:
    """`sql/` of a source checkout, or the copy a wheel installs inside the package."""
    for candidate in (Path(__file__).parent / "sql", Path(__file__).parent.parent / "sql"):
        if (candidate / "report").is_dir():
            return candidate
    raise StoremonError("the SQL files are missing: expected a sql/ folder beside storemon/")


def sql_files(stage: str) -> list[Path]:
    """The files of one pipeline stage (`load` or `report`), in the order they run."""
    return sorted((sql_dir() / stage).glob("*.sql"))


@cache
def sql_version() -> str:
    """A short hash of the load, report and roll-up SQL: which logic produced a report."""
    digest = hashlib.sha256()
    for path in sql_files("load") + sql_files("report") + sql_files("rollups"):
        digest.update(path.relative_to(sql_dir()).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# Each SQL file's statements, parsed once per process: DuckDB takes 4-5 ms to parse a file of
# sql/, as long as it takes to run a small one, and a batch runs eight. A parsed statement runs
# on any connection, in any thread; the file's modification time is part of the key.
_PARSED: dict[tuple[Path, int], list[duckdb.Statement]] = {}


def statements(con: duckdb.DuckDBPyConnection, path: Path) -> list[duckdb.Statement]:
    """The statements of an SQL file, parsed on first use."""
    key = (path, path.stat().st_mtime_ns)
    found = _PARSED.get(key)
    if found is None:
        found = _PARSED[key] = con.extract_statements(path.read_text())
    return found


def run_sql_files(con: duckdb.DuckDBPyConnection, files: list[Path]) -> Iterator[Path]:
    """Run each file in order, yielding it once done (so callers can time and report steps)."""
    for path in files:
        try:
            for statement in statements(con, path):
                con.execute(statement)
        except duckdb.Error as error:
            raise StoremonError(f"{path.name} failed: {error}") from error
        yield path


def connect(path: Path | str = DEFAULT_DB, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database file (creating it and its folder in a format the duckdb shell reads),
    with instants shown in UTC."""
    path = Path(path)
    if read_only and not path.exists():
        raise StoremonError(f"no database at {path}: load data first with `storemon ingest`")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only)
    if not read_only and storage_version(con) != f"{SHELL_STORAGE}+":
        con.close()
        _rewrite_for_shell(path)
        con = _open(path, read_only)
    con.execute("SET TimeZone = 'UTC'")
    _add_missing_tables(con, read_only)
    return con


# Tables a database loaded by an older storemon may lack, and the file of sql/append/ that makes
# each, empty.
ADDED_TABLES = {
    "special_hours": "06_special_hours_table.sql",
    "store_groups": "07_store_groups_table.sql",
}


def _add_missing_tables(con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
    """A database loaded before storemon kept a table (ADDED_TABLES) has none of its rows: it
    gets the table, empty, or, opened read-only, an empty TEMP table of the same shape."""
    present = table_names(con)
    if "polls" not in present:
        return
    for table, file in ADDED_TABLES.items():
        if table not in present:
            sql = (sql_dir() / "append" / file).read_text()
            if read_only:
                sql = sql.replace("CREATE TABLE IF NOT EXISTS", "CREATE TEMP TABLE IF NOT EXISTS")
            con.execute(sql)


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(
            str(path),
            read_only=read_only,
            config={"storage_compatibility_version": SHELL_STORAGE},  # for a new file
        )
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise DatabaseBusy(
                f"{path} is in use by another process (DuckDB lets one process hold it), and no "
                "storemon service answers for it: stop that process, or use a copy of the file"
            ) from error
        raise StoremonError(f"cannot open {path}: {error}") from error


def storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """The storage format of the open database file, e.g. `v1.5.0+`."""
    return scalar(
        con,
        "SELECT tags['storage_version'] FROM duckdb_databases() "
        "WHERE database_name = current_database()",
    )


def sql_text(value: object) -> str:
    """`value` as text for inside a single-quoted SQL literal (COPY and ATTACH take their paths
    as literals, not parameters)."""
    return str(value).replace("'", "''")


def copy_atomically(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    path: Path,
    options: str,
    parameters: list | None = None,
) -> None:
    """COPY a table (or a query, with its `parameters`) to `path` through a partial file renamed
    over it: a reader sees the old file or the whole new one, never a part."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        con.execute(f"COPY {relation} TO '{sql_text(partial)}' ({options})", parameters)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)  # a full disk, say: nothing half-written stays
        raise


def _rewrite_for_shell(path: Path) -> None:
    """Copy a file written in a newer storage format into the shell's format, in place (once,
    for files made before storemon chose the format). Nothing is lost: every table is copied,
    and the original is replaced only when the copy is complete."""
    copy = path.with_name(path.name + ".rewrite")
    copy.unlink(missing_ok=True)
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{sql_text(path)}' AS old (READ_ONLY)")
        con.execute(f"ATTACH '{sql_text(copy)}' AS new (STORAGE_VERSION '{SHELL_STORAGE}')")
        con.execute("COPY FROM DATABASE old TO new")
    os.replace(copy, path)


def run_all(con: duckdb.DuckDBPyConnection, files: list[Path]) -> None:
    """Run SQL files in order (run_sql_files, without looking at each as it finishes)."""
    for _ in run_sql_files(con, files):
        pass


def sql_constant(file: str, name: str) -> int:
    """A number the SQL defines as a macro (`CREATE ... MACRO name() AS 512;`), read from its
    one home, `sql/<file>`, so that Python never states it again."""
    found = re.search(rf"MACRO {name}\(\) AS (\d+);", (sql_dir() / file).read_text())
    if found is None:
        raise LookupError(f"sql/{file} defines no macro {name}()")
    return int(found.group(1))


def one(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> tuple:
    """The row of a query that always answers exactly one (an aggregate, a setting)."""
    row = con.execute(sql, parameters).fetchone()
    if row is None:
        raise LookupError(f"no row where one was certain: {sql[:80]}")
    return row


def scalar(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None) -> Any:
    """The one value of a query that always answers one row of one column."""
    return one(con, sql, parameters)[0]


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """End the open transaction, if any: after a COMMIT that failed (a full disk) DuckDB has
    already ended it, and a ROLLBACK then would hide the real error behind its own."""
    with contextlib.suppress(duckdb.TransactionException):
        con.execute("ROLLBACK")


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return name in table_names(con)


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The database's own tables (not the connection's temporary ones)."""
    return {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary"
        ).fetchall()
    }
