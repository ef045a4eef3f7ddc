"""Parquet copies of what analysts query, beside the database file.

A running service holds the database's lock, and DuckDB lets no other process open a locked
file, not even to read. So storemon also keeps the loaded data and the report runs as Parquet in
`<database folder>/snapshots/`, and every finished report in `<database folder>/reports/`;
`sql/analyst_views.sql` makes views over them in any `duckdb` shell, service running or not.
Each file is written whole under a temporary name and then renamed over the old one, so a
reader sees the old copy or the new one, never a part.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from storemon.database import copy_atomically, scalar, table_names

INPUT_TABLES = (
    "stores",
    "polls",
    "business_hours",
    "special_hours",
    "store_groups",
    "store_timezones",
    "rejected_rows",
    "alert_events",
)
_writing = threading.Lock()  # two threads writing one file would share its partial file


def snapshot_dir(con: duckdb.DuckDBPyConnection) -> Path | None:
    """`snapshots/` beside the connection's database file (None for an in-memory database)."""
    path = scalar(
        con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    )
    return Path(path).parent / "snapshots" if path else None


def write_snapshots(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> None:
    """Copy each table, as the connection sees it now, to `snapshots/<table>.parquet`."""
    folder = snapshot_dir(con)
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    with _writing:
        present = table_names(con)
        for table in tables:
            if table not in present:
                continue  # e.g. data_quality in a database loaded before storemon made it
            copy_atomically(con, table, folder / f"{table}.parquet", "FORMAT parquet")


def inputs_missing(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a copy of an input table is missing: a database loaded before storemon kept
    copies, or before it kept that table (special_hours, store_groups)."""
    folder = snapshot_dir(con)
    return folder is not None and not all(
        (folder / f"{table}.parquet").exists() for table in INPUT_TABLES
    )


def write_inputs(con: duckdb.DuckDBPyConnection) -> None:
    write_snapshots(con, (*INPUT_TABLES, "load_summary", "data_quality"))


def write_runs(con: duckdb.DuckDBPyConnection) -> None:
    write_snapshots(con, ("report_runs",))
