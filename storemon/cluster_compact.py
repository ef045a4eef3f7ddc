"""Compaction of a cluster's data folder (storemon/cluster.py): each batch adds a file to every
bucket it has rows in, so a poller's hourly batches would grow a bucket by one file an hour;
a compaction merges each bucket's files of each kind into one.

It runs under the writer lock (cluster.writer_lock), as a batch does: one task per group of
buckets writes, for each kind and bucket, the rows of every file the manifest's readers read
(cluster.committed) into one file named for the compaction, every row keeping its batch's `seq`
(so a later batch of hours still replaces an earlier one). Polls are written one row per store
and instant, as the load's rule makes them (sql/load/21_poll_instants.sql, through the report
task's own tables, cluster.bucket_tables; their `seq` is never read): a report task whose
buckets each hold only such a file then takes them as they are, without grouping them again
(`polls_one_per_instant` in the compaction's record, cluster.one_per_instant). Each poll also
carries its store's key, and each bucket's stores and their keys go beside (DATA/stores/): such
a task reads its polls by key, no store id read or joined (cluster.compacted_alone). The manifest
then records the compaction: `through_seq`, the last batch it merged. From that step on, readers
read the compaction's files and the batches after it; the files it merged stay RETIRE_AFTER
seconds for the reports that were already reading them, then the next writer removes them.

A live service compacts after every COMPACT_AFTER batches (storemon/cluster_batch.py);
`storemon cluster compact` does it at once."""

from __future__ import annotations

import secrets
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from storemon import cluster
from storemon.database import copy_atomically, scalar, sql_text

COMPACT_AFTER = 24  # batches since the last compaction (a day of hourly batches)


def due(manifest: dict | None) -> bool:
    """Whether the batches since the last compaction have reached COMPACT_AFTER."""
    batches = (manifest or {}).get("batches", [])
    merged = cluster.last_compaction(manifest)
    since = [b for b in batches if merged is None or b["seq"] > merged["seq"]]
    return len(since) >= COMPACT_AFTER


def compact_now(client, data: Path) -> dict | None:
    """Compact the data folder, taking the writer lock; returns the compaction's record (None:
    a folder with no batches)."""
    with cluster.writer_lock(Path(data)):
        manifest = cluster.read_manifest(Path(data))
        if manifest is None or not manifest["batches"]:
            return None
        cluster.sweep(Path(data), manifest)
        return compact(client, Path(data), manifest)


def compact(client, data: Path, manifest: dict) -> dict:
    """Merge the files every bucket's readers read, then commit (writer_lock held by the
    caller); `manifest` gains the compaction's record, which is returned."""
    started = time.perf_counter()
    batches = cluster.committed(manifest)
    seq = cluster.next_seq(manifest)
    batch_id = secrets.token_urlsafe(9)
    name = cluster.batch_name(seq, batch_id)
    threads = sum(client.nthreads().values())
    sizes = cluster.bucket_sizes(data, manifest["buckets"], batches)
    groups = cluster.task_groups(sizes, threads, cluster.TASK_BYTES)
    unique = cluster.one_per_instant(manifest)  # the last compaction's polls, if one per instant
    stride = cluster.key_stride(manifest["buckets"])
    futures = [
        client.submit(
            merge_buckets, str(data.resolve()), group, batches, name, stride, unique, pure=False
        )
        for group in groups
    ]
    merged = cluster.gather(client, futures, [cluster.buckets_named(g) for g in groups])
    record = {
        "seq": seq,
        "batch_id": batch_id,
        "kind": cluster.COMPACTION,
        "through_seq": seq - 1,
        "compacted_at": time.time(),
        "loaded_at": datetime.now(UTC).isoformat(),
        "files_merged": sum(merged),
        "polls_one_per_instant": True,
        "seconds": round(time.perf_counter() - started, 3),
        "rows": 0,
        "kept": 0,
        "rejected": 0,
        "reasons": [],
        "first_poll_us": None,
        "latest_poll_us": None,
        "file": None,
    }
    manifest["batches"].append(record)
    cluster.write_manifest(data, manifest)
    return record


# A bucket's stores, each with the key a compaction gives it: `{first}` (the bucket's first key,
# cluster.key_stride) + its place among the bucket's ids in text order; NULL when the bucket
# holds too many stores for its keys (`{fits}` false: no stores file is written, and report
# tasks read its polls by id). Numbered here, not taken from `stores`: a bucket the last
# compaction left alone has its keys from that one already (sql/cluster/10_bucket_stores.sql).
COMPACTED_KEYS = (
    "CREATE OR REPLACE TEMP TABLE compacted_keys AS SELECT store_key, store_id, "
    "if({fits}, {first} + row_number() OVER (ORDER BY store_id), NULL)::INTEGER AS compacted_key "
    "FROM stores"
)
# A bucket's polls, one row per store and instant, from the tables bucket_tables made of them,
# in (store_id, instant) order: a report task reads them in that order (one thread, insertion
# order kept), and its SQL costs a fifth less on sorted polls (at 10x, 1.8 M polls a task: 1.07
# against 0.86 s of CPU, in turn in one process); each with its store's id and compacted key.
ONE_PER_INSTANT = (
    "(SELECT keys.store_id, polls.timestamp_utc, polls.active, NULL::INTEGER AS seq, "
    "keys.compacted_key AS store_key "
    "FROM polls JOIN compacted_keys AS keys USING (store_key) "
    "ORDER BY keys.store_id, polls.timestamp_utc)"
)
# A bucket's stores by those keys (sql/cluster/10_bucket_stores.sql reads them).
STORES = "(SELECT compacted_key AS store_key, store_id FROM compacted_keys ORDER BY 1)"


def merge_buckets(
    data: str,
    buckets: list[int],
    batches: frozenset[str],
    name: str,
    stride: int,
    unique: str | None = None,
) -> int:
    """One task: each kind's files of each of `buckets` (those of `batches`) as one file named
    `name`, its polls one row per store and instant (`unique`: as cluster.bucket_tables takes
    it), and beside them the bucket's stores by the keys its polls now carry (bucket B's from
    B * `stride`); returns how many files it merged."""
    merged = 0
    with ExitStack() as scratch, cluster.task_connection() as con:
        for kind in cluster.KEPT:
            for bucket in buckets:
                files = cluster.bucket_files(Path(data), kind, bucket, batches)
                if not files:
                    continue
                target = Path(data) / kind / f"bucket={bucket}" / f"{name}_0.parquet"
                if kind == "polls":
                    cluster.bucket_tables(con, Path(data), [bucket], batches, scratch, unique)
                    fits = scalar(con, "SELECT count(*) FROM stores") < stride
                    con.execute(COMPACTED_KEYS.format(fits=fits, first=bucket * stride))
                    copy_atomically(con, ONE_PER_INSTANT, target, "FORMAT parquet")
                    if fits:
                        stores = Path(data) / cluster.STORES / f"bucket={bucket}"
                        stores.mkdir(parents=True, exist_ok=True)
                        copy_atomically(con, STORES, stores / f"{name}_0.parquet", "FORMAT parquet")
                else:
                    listed = ", ".join(f"'{sql_text(path)}'" for path in files)
                    rows = f"(SELECT * FROM read_parquet([{listed}]))"
                    copy_atomically(con, rows, target, "FORMAT parquet")
                merged += len(files)
    return merged
