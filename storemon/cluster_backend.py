"""Reports computed on a Dask cluster, from its data folder (storemon/cluster.py): the
Backend (storemon/backends.py) of `storemon serve --scheduler ADDR --data DIR`. The service's
own database keeps the reports' state, rows and files, as for reports computed there."""

from __future__ import annotations

import shutil
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import duckdb

from storemon import cluster, cluster_batch
from storemon.backends import KEPT_ROWS, Batch, Computed, Files, Material
from storemon.database import run_all, scalar
from storemon.errors import StoremonError
from storemon.report import NOTE_COLUMNS, report_files
from storemon.results import BatchAnswer


class OnCluster:
    keeps_store_weeks = False  # its data is the cluster's folder, not the service's database

    def __init__(self, scheduler: str, data: Path) -> None:
        self.data = data
        self._stack = ExitStack()
        self.client = self._stack.enter_context(cluster.connect_cluster(scheduler))

    def poll_range(self, data_first: str | None, data_latest: str | None) -> tuple[int, int] | None:
        return cluster.poll_range(cluster.read_manifest(self.data))

    def data_version(self, loaded: str | None) -> str | None:
        batch = cluster.last_batch(cluster.read_manifest(self.data))
        return batch["batch_id"] if batch else None

    def compute(
        self, cur: duckdb.DuckDBPyConnection, as_of: datetime | None, files: Files
    ) -> Computed:
        done = cluster.compute(self.client, self.data, as_of)
        for name, path in files:
            cluster.write_part(done["folder"], name or "report", path)
        batch = done["batch"]

        def keep(cur: duckdb.DuckDBPyConnection, report_id: str) -> None:
            for table, relation in KEPT_ROWS.items():
                if relation == "report_notes":  # the buckets' notes, added up
                    if done["notes"]:
                        cur.executemany(
                            f"INSERT INTO {table} (report_id, {NOTE_COLUMNS}) "
                            "VALUES (?, ?, ?, ?, ?)",
                            [[report_id, *note] for note in done["notes"]],
                        )
                else:
                    rows = cluster.rows_of(done["folder"], cluster.FOLDERS[relation])
                    cur.execute(f"INSERT INTO {table} SELECT ?, * FROM {rows}", [report_id])

        return Computed(
            stores=done["stores"],
            seconds=done["seconds"],
            as_of_us=done["as_of_us"],
            data_batch_at=batch.get("loaded_at"),
            data_batch_id=batch.get("batch_id"),
            keep=keep,
            done=lambda: shutil.rmtree(done["folder"], ignore_errors=True),  # rows kept
            said=f" on the cluster ({done['buckets']} buckets in {len(done['tasks'])} tasks)",
        )

    def store_material(
        self, cur: duckdb.DuckDBPyConnection, report_id: str, store_id: str, material: Material
    ) -> dict:
        """The material from the store's bucket of the data folder: its tables made in a
        database of their own, then the same SQL, as of the report's now."""
        as_of_us = scalar(
            cur, "SELECT epoch_us(as_of) FROM report_runs WHERE report_id = ?", [report_id]
        )
        manifest = cluster.read_manifest(self.data) or {"buckets": 1}
        bucket = cluster.bucket_of(store_id, manifest["buckets"])
        batches = cluster.committed(manifest)  # the data as it is now (data_changed says)
        with ExitStack() as scratch, cluster.new_connection() as con:
            unique = cluster.one_per_instant(manifest)
            cluster.bucket_tables(con, self.data, [bucket], batches, scratch, unique)
            run_all(con, report_files("00", "01"))
            con.execute("SET VARIABLE as_of_checked = true")
            con.execute("SET VARIABLE as_of = make_timestamptz(?)", [as_of_us])
            week = material(con, report_id, store_id, True)
        week["latest_batch"] = (cluster.last_batch(manifest) or {}).get("batch_id")
        return week

    def refuse_writes(self) -> None:
        """A full load replaces the cluster's data folder: `storemon cluster ingest`, not here."""
        raise StoremonError(
            f"this service computes its reports from the cluster's data in {self.data}: load "
            "files there with `storemon cluster ingest` (batches: POST /polls, /hours, ...)"
        )

    def append(self, batch: Batch) -> BatchAnswer:
        """Into the cluster's data folder, committed in one step (storemon/cluster_batch.py)."""
        return cluster_batch.append_batch(self.client, self.data, batch)

    def close(self) -> None:
        self._stack.close()
