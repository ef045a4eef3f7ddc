"""Where a report is computed: the one seam between the service and what computes.

The service (storemon/service.py), a store's week (storemon/store_week/) and the API ask a
`Backend` four things, and never know which one answers:

- poll_range: the first and latest poll of the data reports read (the as-of rule's range);
- data_version: what names that data, so that reports of the same data can be shared;
- compute: a report as of an instant, its files written, and what to keep of it;
- store_material: one store's zone, intervals and polls in a report's week.

`Local` computes on the service's own database; the cluster's backend
(storemon/cluster_backend.py) on a Dask cluster, from its data folder. `backend_for` is the one
place that chooses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import duckdb

from storemon.database import has_table, rollback, scalar
from storemon.instants import ISO, micros
from storemon.report import OUTPUTS, run_report, write_report
from storemon.results import BatchAnswer

# A finished report's rows, by report_id: the table of its run (sql/report/) each one keeps.
KEPT_ROWS = {
    "report_rows": "store_report",
    "report_notes_rows": "report_notes",
    "report_note_stores_rows": "report_note_stores",
    "report_outages_rows": "store_outages",
    "report_summary_rows": "store_outage_summary",
    "report_rollups_rows": "group_rollups",
    "report_store_groups_rows": "report_store_groups",
}

# What a store's week is made from, given a cursor: (cursor, report_id, store_id, fresh) ->
# the material; `fresh`: a connection of its own, whose variable `as_of` is set.
Material = Callable[[duckdb.DuckDBPyConnection, str, str, bool], dict]
Files = list[tuple[str, Path]]  # (output name, path) of a report's files


@dataclass(frozen=True)
class Computed:
    """A computed report, its files written: what its run records, and how to keep its rows."""

    stores: int
    seconds: float
    as_of_us: int  # its now, epoch us
    data_batch_at: str | None
    data_batch_id: str | None
    keep: Callable[[duckdb.DuckDBPyConnection, str], None]  # (cursor, report_id): its rows in
    done: Callable[[], None] = lambda: None  # once its rows are kept
    said: str = ""  # what the log adds about where it was computed


@dataclass(frozen=True)
class Batch:
    """A batch to append: its kind, its file (CSV with a header), how it is named in its
    rejected rows and messages, its Idempotency-Key, the offset that turns the file's line
    numbers into the sender's (append.as_csv), and whether rows none of which is usable are
    taken."""

    kind: str
    path: Path
    shown: str
    idempotency_key: str | None = None
    line_offset: int = 0
    allow_empty: bool = False


class Backend(Protocol):
    def poll_range(self, data_first: str | None, data_latest: str | None) -> tuple[int, int] | None:
        """Epoch us of the first and latest poll (None: no polls), given the service's own
        data's first and latest poll (ISO), which a backend may not need."""
        ...

    def data_version(self, loaded: str | None) -> str | None:
        """What names the data a report reads, given the service's own last batch or load."""
        ...

    def compute(
        self, cur: duckdb.DuckDBPyConnection, as_of: datetime | None, files: Files
    ) -> Computed:
        """The report as of `as_of` (None: the latest poll), written to `files` ((output name,
        path): report.OUTPUTS' names, each as CSV and Parquet)."""
        ...

    def store_material(
        self, cur: duckdb.DuckDBPyConnection, report_id: str, store_id: str, material: Material
    ) -> dict:
        """One store's material for a finished report, by `material`, with "latest_batch"."""
        ...

    keeps_store_weeks: bool
    """Whether the service keeps every store's week of the reports read last, made from its
    own database (storemon/store_week/kept.py): only where the reports were computed from it."""

    def refuse_writes(self) -> None:
        """Raise when data may not be loaded (replaced whole) through the service."""
        ...

    def append(self, batch: Batch) -> BatchAnswer | None:
        """Append a batch where the reports read their data, committed when this returns;
        None: that is the service's own database (storemon/data_writer.py)."""
        ...

    def close(self) -> None: ...


class Local:
    """Reports computed on the service's own database, each in one transaction of its cursor."""

    keeps_store_weeks = True

    def poll_range(self, data_first: str | None, data_latest: str | None) -> tuple[int, int] | None:
        if data_first is None or data_latest is None:
            return None
        return micros(datetime.fromisoformat(data_first)), micros(
            datetime.fromisoformat(data_latest)
        )

    def data_version(self, loaded: str | None) -> str | None:
        return loaded

    def compute(
        self, cur: duckdb.DuckDBPyConnection, as_of: datetime | None, files: Files
    ) -> Computed:
        clock = time.perf_counter()
        cur.execute("BEGIN TRANSACTION")  # one snapshot of the data for the whole report
        run = run_report(cur, as_of)
        for name, path in files:
            write_report(cur, path, OUTPUTS[name])
        # How fresh the data it read was: the last batch in its snapshot.
        data_batch_at, data_batch_id = (
            cur.execute(
                f"SELECT strftime(received_at, '{ISO}'), batch_id FROM batches "
                "ORDER BY received_at DESC LIMIT 1"
            ).fetchone()
            if has_table(cur, "batches")
            else None
        ) or (None, None)
        as_of_us = scalar(cur, "SELECT epoch_us(as_of) FROM report_window")
        cur.execute("COMMIT")  # it only read; its TEMP tables stay with the cursor

        def keep(cur: duckdb.DuckDBPyConnection, report_id: str) -> None:
            for table, relation in KEPT_ROWS.items():
                cur.execute(f"INSERT INTO {table} SELECT ?, * FROM {relation}", [report_id])

        return Computed(
            stores=run.stores,
            seconds=time.perf_counter() - clock,
            as_of_us=as_of_us,
            data_batch_at=data_batch_at,
            data_batch_id=data_batch_id,
            keep=keep,
        )

    def store_material(
        self, cur: duckdb.DuckDBPyConnection, report_id: str, store_id: str, material: Material
    ) -> dict:
        cur.execute("BEGIN TRANSACTION")  # one snapshot of the data for what follows
        try:
            week = material(cur, report_id, store_id, False)
            cur.execute("COMMIT")
        except BaseException:
            rollback(cur)
            raise
        return week

    def refuse_writes(self) -> None:
        pass

    def append(self, batch: Batch) -> BatchAnswer | None:
        return None  # the service's own database: the data writer's

    def close(self) -> None:
        pass


def backend_for(scheduler: str | None, data: Path | None) -> Backend:
    """The cluster's backend when a scheduler and its data folder are given, else Local."""
    if scheduler is None or data is None:
        return Local()
    from storemon.cluster_backend import OnCluster

    return OnCluster(scheduler, Path(data))
