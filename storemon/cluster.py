"""Beyond one machine: the same SQL files on a Dask cluster, partitioned by store.

The data lives in a folder every worker can read (a network file system in production, a local
folder in tests), as Parquet partitioned by store bucket:

    DATA/manifest.json                        K, how a store finds its bucket, every batch
    DATA/polls/bucket=B/<seq>-<batch>_0.parquet       usable polls   (one file per input file
    DATA/hours/bucket=B/<seq>-<batch>_0.parquet       usable hours    and bucket it has rows in)
    DATA/timezones/bucket=B/<seq>-<batch>_0.parquet   usable zones
    DATA/special_hours/bucket=B/<seq>-<batch>_0.parquet   usable special hours
    DATA/groups/bucket=B/<seq>-<batch>_0.parquet      usable store groups
    DATA/rejected/<seq>-<batch>.parquet               rejected rows, with file and line
    DATA/incoming/<seq>-<batch>.csv                   a batch on its way in (cluster_batch.py)
    DATA/reports/<report_id>/<part>/buckets=F-L.parquet   (one per task and PARTS' part)

`ingest` runs one task per input file (a big polls file: one per piece of about 64 MB, cut at
line breaks outside quotes, its line numbers kept): the load's own parsing (sql/load/00, 10-12,
and its control-character rule), then the usable rows go to their buckets; an ingest whose polls
came in pieces then compacts the folder (cluster_compact.py). `report` runs one task per group
of consecutive buckets, sized by data (task_groups: one per thread of the cluster, more where a
task would exceed about 5 M polls), each on a one-thread DuckDB: sql/cluster/ turns the buckets'
files into the rows the load's parsing makes (the polls a view over their Parquet),
sql/load/15-23 make the tables, sql/report/ computes the report, as of the `now` of all the data
(the largest poll, from the manifest). A store's rows
all live in its bucket and a report is independent per store, so the tasks' rows, put in
store_id order, are the single-node report, byte for byte. Dask schedules the tasks, and
recomputes a task whose worker died.

A batch's files become part of the data in one step: when the manifest that names the batch
replaces the one before (os.replace). Every file's name begins with its batch's (`<seq>-<batch>`,
batch_of), and a reader takes only the files of the batches its manifest names: a report reads
the manifest once and gives its tasks that version, so it reads one consistent state, whatever
commits meanwhile (a store's week, asked later, reads the data as it is then, and says whether
it changed since the report, as on one machine); the files of an ingest that died before
committing are never read, and the next writer removes them. Writers take turns: an ingest
holds DATA/.writer.lock (an exclusive flock) from reading the manifest to writing it, so two
ingests at once cannot take the same sequence numbers or lose each other's batch.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import msgspec

from storemon import append
from storemon.append import KINDS, as_csv, is_parquet, reject_control_characters
from storemon.database import (
    copy_atomically,
    one,
    run_all,
    scalar,
    sql_dir,
    sql_files,
    sql_text,
)
from storemon.errors import StoremonError
from storemon.ingest import (
    SHORT_LINES,
    load_memory,
    open_input,
    parse_file,
    parse_macros,
    use_input,
)
from storemon.instants import instant, micros
from storemon.report import (
    FORMATS,
    ORDER_BY,
    OUTPUTS,
    copy_options,
    refuse_as_of,
    report_files,
    run_report,
)
from storemon.results import RejectCount

DEFAULT_BUCKETS = 64
# the most a report task takes (its buckets' polls, in bytes of Parquet: about 5 M polls) once
# the cluster's threads all have one. At 10x on two one-thread workers, in turn: 10 tasks of
# 16 MB took 1.42x the single process's report, 4 of 40 MB 1.31x, 2 of 80 MB 1.29x (a task's
# fixed cost, about 0.25 s, paid fewer times); a worker's peak for a 40 MB task, 355 MB.
TASK_BYTES = 40 << 20
BUCKET_OF = "md5_number_lower(store_id) % {buckets}"  # stable across machines and versions
MANIFEST = "manifest.json"
WRITER_LOCK = ".writer.lock"  # held by the one ingest that may write at a time
INCOMING = "incoming"  # DATA/incoming/<batch>.csv: an appended batch on its way in
COMPACTION = "compaction"  # the kind of a manifest's record of a compaction
RETIRE_AFTER = 3600.0  # seconds a compaction keeps the files it merged, for reports reading them
BATCH_ID_CHARS = 12  # secrets.token_urlsafe(9)
# what each kind keeps of its parsed rows (sql/load/10-12), beside `seq`
KEPT = {
    "polls": "store_id, timestamp_utc, active",
    "hours": "store_id, day_of_week, start_local, end_local",
    "timezones": "store_id, timezone",
    "special_hours": "store_id, local_date, start_local, end_local",
    "groups": "store_id, group_name",
}
EMPTY = {  # the same columns, no rows: a bucket without a kind's files reads this
    "polls": "NULL::VARCHAR AS store_id, NULL::TIMESTAMPTZ AS timestamp_utc, "
    "NULL::BOOLEAN AS active",
    "hours": "NULL::VARCHAR AS store_id, NULL::TINYINT AS day_of_week, NULL::TIME AS start_local, "
    "NULL::TIME AS end_local",
    "timezones": "NULL::VARCHAR AS store_id, NULL::VARCHAR AS timezone",
    "special_hours": "NULL::VARCHAR AS store_id, NULL::DATE AS local_date, "
    "NULL::TIME AS start_local, NULL::TIME AS end_local",
    "groups": "NULL::VARCHAR AS store_id, NULL::VARCHAR AS group_name",
}
# A compaction's stores beside its polls, one file a bucket (DATA/stores/bucket=B/), keyed so
# that a report task reads its polls by key (sql/cluster/10_bucket_stores.sql): the keys of all
# the buckets together span KEY_SPACE, an INTEGER's positive range.
STORES = "stores"
KEY_SPACE = 1 << 31
VARIABLES = {
    "polls": "poll_files",
    "hours": "hours_files",
    "timezones": "timezone_files",
    "special_hours": "special_files",
    "groups": "group_files",
}

if TYPE_CHECKING:
    from distributed import Client

_worker = threading.local()  # each worker thread's DuckDB (task_connection)


def new_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for a bucket's tables (bucket_tables) or a file's parsing: in UTC,
    with the load's macros, on one thread."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    # One thread: a cluster's parallelism is its tasks, one per worker thread, a worker thread
    # per core (the README's `dask worker --nthreads 1`, one per core). A task's DuckDB with a
    # thread per core as well would put twice as many threads as cores to work: at 10x, on
    # two one-thread workers on two cores, the report took 20.7 s with two DuckDB threads a
    # task and 11.1-13.3 s with one.
    con.execute("SET threads = 1")
    parse_macros(con)
    return con


def _clear(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the last task's variables, TEMP views and TEMP tables (an ingest's `poll_rows` is a
    table, a report's a view over Parquet: neither may replace the other)."""
    for (name,) in con.execute("SELECT name FROM duckdb_variables()").fetchall():
        con.execute(f'RESET VARIABLE "{name}"')
    for kind, listed in (("VIEW", "duckdb_views()"), ("TABLE", "duckdb_tables()")):
        names = con.execute(
            f"SELECT {kind.lower()}_name FROM {listed} WHERE temporary AND NOT internal"
        ).fetchall()
        for (name,) in names:
            con.execute(f'DROP {kind} temp.main."{name}"')


@contextmanager
def task_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """The DuckDB a task runs on: one per worker thread, made with the load's macros once and
    kept for its next tasks (a new DuckDB and its macros cost about 50 ms, most of a small
    bucket's work). Each task starts with no variables set (one that a task set and the next
    does not, such as `status_read_from`, would be read by the next) and no TEMP views or tables;
    the tables it reads, it makes (CREATE OR REPLACE), so those of the last task are replaced,
    not read. A task that fails leaves its DuckDB behind, and the next one starts a new one."""
    con = getattr(_worker, "con", None)
    if con is None:
        con = _worker.con = new_connection()
    else:
        _clear(con)
    try:
        yield con
    except BaseException:
        _worker.con = None
        con.close()
        raise


# --- the manifest ---------------------------------------------------------------------------


def read_manifest(data: Path) -> dict | None:
    path = Path(data) / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def new_manifest(buckets: int | None = None) -> dict:
    """The manifest of a data folder with no batches yet, of K = `buckets`."""
    return {
        "buckets": buckets or DEFAULT_BUCKETS,
        "bucket_of": BUCKET_OF.format(buckets="buckets"),
        "batches": [],
    }


def next_seq(manifest: dict) -> int:
    """The sequence number of the next batch (a later batch of hours replaces an earlier)."""
    return max((batch["seq"] for batch in manifest["batches"]), default=0) + 1


def write_manifest(data: Path, manifest: dict) -> None:
    path = Path(data) / MANIFEST
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(partial, path)


def batch_name(seq: int, batch_id: str) -> str:
    """The start of the name of every file a batch writes."""
    return f"{seq:06d}-{batch_id}"


def batch_of(file_name: str) -> str:
    """The batch a data file belongs to, from its name (`<seq>-<batch_id>...`; the id has a
    fixed length and may itself hold '-' or '_')."""
    seq, _, rest = file_name.partition("-")
    return f"{seq}-{rest[:BATCH_ID_CHARS]}"


def committed(manifest: dict | None) -> frozenset[str]:
    """The names of the batches whose files a manifest's readers read: every batch it holds,
    but that once a compaction has merged the files of every batch up to its `through_seq`
    (storemon/cluster_compact.py), the last compaction and the batches after it instead."""
    batches = (manifest or {}).get("batches", [])
    merged = last_compaction(manifest)
    if merged is None:
        return frozenset(batch_name(b["seq"], b["batch_id"]) for b in batches)
    return frozenset(
        batch_name(b["seq"], b["batch_id"])
        for b in batches
        if b is merged or (b["seq"] > merged["through_seq"] and b["kind"] != COMPACTION)
    )


def last_compaction(manifest: dict | None) -> dict | None:
    found = [b for b in (manifest or {}).get("batches", []) if b["kind"] == COMPACTION]
    return max(found, key=lambda b: b["seq"], default=None)


def one_per_instant(manifest: dict | None) -> str | None:
    """The batch whose polls files hold one row per store and instant: the last compaction, when
    it wrote them so (`polls_one_per_instant`; a compaction by an older storemon did not), else
    None."""
    merged = last_compaction(manifest)
    if merged is None or not merged.get("polls_one_per_instant"):
        return None
    return batch_name(merged["seq"], merged["batch_id"])


def retired(manifest: dict | None, now: float) -> frozenset[str]:
    """The batches whose data files a compaction merged more than RETIRE_AFTER seconds before
    `now`: no report still reads them (one that started before it has had that long)."""
    batches = (manifest or {}).get("batches", [])
    merged = [
        b for b in batches if b["kind"] == COMPACTION and now - b["compacted_at"] > RETIRE_AFTER
    ]
    if not merged:
        return frozenset()
    through = max(b["through_seq"] for b in merged)
    newest = max(b["seq"] for b in merged)
    return frozenset(
        batch_name(b["seq"], b["batch_id"])
        for b in batches
        if b["seq"] <= through or (b["kind"] == COMPACTION and b["seq"] < newest)
    )


@contextmanager
def writer_lock(data: Path) -> Iterator[None]:
    """The data folder's one writer: an exclusive lock on DATA/.writer.lock, waited for."""
    Path(data).mkdir(parents=True, exist_ok=True)
    with (Path(data) / WRITER_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sweep(data: Path, manifest: dict | None) -> list[Path]:
    """Remove the files of batches that never committed (an ingest that died), any batch left
    on its way in, and the data files a compaction merged long enough ago (retired); only with
    writer_lock held, when no other ingest can be writing. Returns what it removed."""
    batches = (manifest or {}).get("batches", [])
    known = frozenset(batch_name(b["seq"], b["batch_id"]) for b in batches)
    old = retired(manifest, time.time())
    removed = sorted((Path(data) / INCOMING).glob("*"))
    for path in removed:
        path.unlink(missing_ok=True)
    for kind in (*KEPT, STORES, "rejected"):
        for path in (Path(data) / kind).glob("**/*.parquet"):
            batch = batch_of(path.name)
            # (rejected rows are a batch's own, never merged: they stay while it is known)
            if batch not in known or (kind != "rejected" and batch in old):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def kind_of(path: Path) -> str:
    """The input a file holds (append.kind_of), naming the file in the message."""
    if not Path(path).is_file():
        raise StoremonError(f"{path}: no such file")
    try:
        return append.kind_of(Path(path))
    except StoremonError as error:
        raise StoremonError(f"{path}: {error}") from None


# --- tasks (they run on the workers) ---------------------------------------------------------


def ingest_file(
    path: str,
    data: str,
    kind: str,
    buckets: int,
    seq: int,
    batch_id: str,
    load_time: str,
    piece: tuple[int, int, int, int] | None = None,
    shown: str | None = None,
    line_offset: int = 0,
) -> dict:
    """Parse one input file (or one `piece` of it: number, start and end byte, the number of its
    first line) with the load's SQL and write its usable rows into their buckets, its rejected
    rows beside them, with the file's own line numbers (plus `line_offset`), named as `shown`
    (the file's path by default). Returns what it read."""
    spec = KINDS[kind]
    data_dir = Path(data)
    name = batch_name(seq, batch_id) + (f"-{piece[0]:04d}" if piece else "")
    with ExitStack() as scratch, task_connection() as con:
        read = Path(path)
        if is_parquet(read):
            read, _ = as_csv(read, "parquet", kind, scratch)
        elif piece is not None:  # the header, then the piece's lines, in a file of its own
            read = Path(scratch.enter_context(tempfile.TemporaryDirectory())) / read.name
            _write_piece(Path(path), piece[1], piece[2], read)
        item = dataclasses.replace(
            open_input(read, spec.source, scratch), path=Path(path), max_line_size=SHORT_LINES
        )
        con.execute("SET VARIABLE load_time = ?::TIMESTAMPTZ", [load_time])
        use_input(con, item)
        load = sql_dir() / "load"
        with load_memory(con):  # as a full load reads: its memory cap, short lines first
            parse_file(con, load / spec.parse, [item], lambda _: None)
            reject_control_characters(con, spec, item.read_from)
            if piece is not None:  # the piece's line 2 is the file's line piece[3]
                line_offset += piece[3] - 2
            if line_offset:
                con.execute(f"UPDATE {spec.rows} SET line = line + ?", [line_offset])
            bucket = BUCKET_OF.format(buckets=buckets)
            target = data_dir / kind
            target.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"COPY (SELECT {KEPT[kind]}, {seq}::INTEGER AS seq, {bucket} AS bucket "
                f"FROM {spec.rows} WHERE reason IS NULL) TO '{sql_text(target)}' "
                f"(FORMAT parquet, PARTITION_BY (bucket), FILENAME_PATTERN '{name}_{{i}}', "
                "OVERWRITE_OR_IGNORE)"
            )
            rejected = data_dir / "rejected"
            rejected.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"COPY (SELECT '{spec.source.name}' AS source, ?::VARCHAR AS file, line, raw, "
                f"reason, detail, ?::VARCHAR AS batch_id FROM {spec.rows} WHERE reason IS NOT NULL "
                f"ORDER BY line) TO '{sql_text(rejected / (name + '.parquet'))}' (FORMAT parquet)",
                [shown or path, batch_id],
            )
            rows, kept, repeats, first_us, latest_us = one(
                con,
                "SELECT count(*), count(*) FILTER (reason IS NULL), "
                + (
                    "count(*) FILTER (reason IS NULL) - count(DISTINCT (store_id, timestamp_utc)) "
                    "FILTER (reason IS NULL), "
                    "epoch_us(min(timestamp_utc) FILTER (reason IS NULL)), "
                    "epoch_us(max(timestamp_utc) FILTER (reason IS NULL)) "
                    if kind == "polls"
                    else "0, NULL, NULL "
                )
                + f"FROM {spec.rows}",
            )
            reasons = con.execute(
                f"SELECT '{spec.source.name}', reason, count(*), min(line), arg_min(detail, line), "
                f"arg_min(left(raw, 200), line) FROM {spec.rows} WHERE reason IS NOT NULL "
                "GROUP BY reason ORDER BY reason"
            ).fetchall()
    return {
        "seq": seq,
        "batch_id": batch_id,
        "kind": kind,
        "file": shown or path,
        "loaded_at": load_time,
        "rows": rows,
        "kept": kept,
        "repeats": repeats,  # usable polls repeated within the file
        "rejected": rows - kept,
        "reasons": [msgspec.to_builtins(RejectCount(*row)) for row in reasons],
        "first_poll_us": first_us,
        "latest_poll_us": latest_us,
    }


PIECE_BYTES = 64 << 20  # a polls file larger than this is parsed in pieces of about this size


def _write_piece(path: Path, start: int, end: int, target: Path) -> None:
    """The file's header line, then its bytes [start, end), into `target`."""
    with path.open("rb") as source, target.open("wb") as out:
        out.write(source.readline())
        source.seek(start)
        left = end - start
        while left > 0:
            chunk = source.read(min(left, 8 << 20))
            if not chunk:
                break
            out.write(chunk)
            left -= len(chunk)


def pieces(path: Path, size: int = PIECE_BYTES) -> list[tuple[int, int, int, int]]:
    """Cut a CSV file into pieces of about `size` bytes, each ending at a line break outside
    quotes (an even number of `"` before it: RFC 4180 doubles a quote inside a field), as
    (number, start, end, number of its first line). One piece for a small file."""
    total = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.readline()
        if total <= size or header.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: whole
            return []
        cuts = [(len(header), 2)]  # (offset, line number there)
        offset, quotes, lines = len(header), 0, 2
        target = len(header) + size
        while chunk := handle.read(8 << 20):
            at = max(0, target - offset)
            while at < len(chunk):
                newline = chunk.find(b"\n", at)
                if newline < 0:
                    break
                if (quotes + chunk.count(b'"', 0, newline)) % 2 == 0:
                    cut = offset + newline + 1
                    cuts.append((cut, lines + chunk.count(b"\n", 0, newline) + 1))
                    target = cut + size
                    at = max(newline + 1, target - offset)
                else:
                    at = newline + 1
            quotes += chunk.count(b'"')
            lines += chunk.count(b"\n")
            offset += len(chunk)
    cuts = [c for c in cuts if c[0] < total]
    ends = [c[0] for c in cuts[1:]] + [total]
    return [
        (n, start, end, line) for n, ((start, line), end) in enumerate(zip(cuts, ends, strict=True))
    ]


def bucket_files(data: Path, kind: str, bucket: int, batches: frozenset[str]) -> list[Path]:
    """A bucket's files of one kind, of the committed `batches` alone."""
    found = (Path(data) / kind / f"bucket={bucket}").glob("*.parquet")
    return sorted(path for path in found if batch_of(path.name) in batches)


def compacted_alone(
    data: Path, buckets: Sequence[int], batches: frozenset[str], unique: str | None
) -> bool:
    """Whether each of `buckets` holds its polls in one file of the compaction `unique` (its
    polls one per store and instant: one_per_instant()), with that compaction's stores file
    beside it: a task then reads its polls by the compaction's keys (bucket_tables)."""
    return unique is not None and all(
        [path.name for path in bucket_files(data, kind, bucket, batches)] == [f"{unique}_0.parquet"]
        for bucket in buckets
        for kind in ("polls", STORES)
    )


def key_stride(buckets: int) -> int:
    """How far apart a compaction keys the stores of neighbouring buckets (bucket * stride + n,
    sql/cluster/10_bucket_stores.sql): the keys of all the buckets then fit in an INTEGER."""
    return KEY_SPACE // buckets


@dataclasses.dataclass(frozen=True)
class TaskTables:
    """What bucket_tables made: how many polls, and whether it read them by the compaction's
    keys as they are (compacted_alone) or grouped them to one per store and instant."""

    polls: int
    keyed: bool


def bucket_tables(
    con: duckdb.DuckDBPyConnection,
    data: Path,
    buckets: Sequence[int],
    batches: frozenset[str],
    scratch,
    unique: str | None = None,
) -> TaskTables:
    """Make the tables of some buckets' stores in `con` (a new_connection()) (stores, polls,
    business_hours, special_hours, store_groups, store_timezones), as a load would, from their
    files of the committed `batches` (sql/cluster/ and sql/load/15-23, read in place: the
    polls are a view over their Parquet until sql/cluster/20_bucket_polls.sql). `unique`: the
    batch whose polls files hold one row per store and instant (one_per_instant()); when each
    bucket's polls are one such file (compacted_alone), they are read as they are, by the keys
    the compaction gave the stores (sql/cluster/10_bucket_stores.sql,
    20_bucket_compacted_polls.sql), not grouped again."""
    compacted = compacted_alone(data, buckets, batches, unique)
    for kind, variable in VARIABLES.items():
        found = [bucket_files(data, kind, bucket, batches) for bucket in buckets]
        files = [str(path) for listed in found for path in listed]
        if not files:
            empty = Path(scratch.enter_context(tempfile.TemporaryDirectory())) / "e.parquet"
            con.execute(
                f"COPY (SELECT {EMPTY[kind]}, NULL::INTEGER AS seq LIMIT 0) "
                f"TO '{sql_text(empty)}' (FORMAT parquet)"
            )
            files = [str(empty)]
        con.execute(f"SET VARIABLE {variable} = ?", [files])
    load, own = sql_dir() / "load", sql_dir() / "cluster"
    # sql/cluster/01-05 turn the buckets' files into the rows the load's parsing makes
    rows = [
        *(path for path in sql_files("cluster") if path.name < "10"),
        load / "15_ids_beside_polls.sql",
    ]
    if compacted:
        stores = [str(bucket_files(data, STORES, bucket, batches)[0]) for bucket in buckets]
        con.execute("SET VARIABLE store_files = ?", [stores])
        polls = [own / "10_bucket_stores.sql", own / "20_bucket_compacted_polls.sql"]
    else:
        # Not 20_stores_rejected.sql: the ingest rejected the rows of ids with control
        # characters already. Not 21_polls.sql: 20_bucket_polls.sql makes the polls, unsorted.
        polls = [load / "20_stores.sql", load / "21_poll_instants.sql", own / "20_bucket_polls.sql"]
    tables = [
        load / name
        for name in ("22_business_hours.sql", "22_special_hours.sql", "22_store_groups.sql")
    ]
    run_all(con, [*rows, *polls, *tables, load / "23_store_timezones.sql"])
    return TaskTables(scalar(con, "SELECT count(*) FROM polls"), compacted)


# What a task writes of its report, each table of the run (sql/report/, sql/rollups/) to a
# folder of its own: the report's outputs (report.OUTPUTS) but its roll-ups, the stores of its
# notes, the groups of its stores, and its groups' exact sums, from which the whole report's
# roll-ups are made (combine_rollups: groups span tasks).
PARTS = {
    **{relation: name or "report" for name, relation in OUTPUTS.items() if name != "rollups"},
    "report_note_stores": "note_stores",
    "report_store_groups": "store_groups",
    "group_sums": "group_sums",
}
# Where a computed report keeps each table's rows: the tasks' parts, and its roll-ups.
FOLDERS = {**PARTS, "group_rollups": "rollups"}


def report_buckets(
    data: str,
    buckets: list[int],
    batches: frozenset[str],
    as_of_us: int,
    report_id: str,
    unique: str | None = None,
) -> dict:
    """The report of some buckets' stores (one task) in the data of the committed `batches`,
    as of `as_of_us` (the `now` of all the data), by the load's and the report's own SQL files;
    its rows, outages, summary and its notes' stores go to Parquet, one file each (PARTS),
    named for the task's first and last bucket. `unique`: as bucket_tables takes it."""
    started = time.perf_counter()
    out = Path(data) / "reports" / report_id
    with ExitStack() as scratch, task_connection() as con:
        tables = bucket_tables(con, Path(data), buckets, batches, scratch, unique)
        tables_seconds = time.perf_counter() - started
        con.execute("SET VARIABLE as_of_checked = true")
        run = run_report(con, instant(as_of_us))
        for relation, part in PARTS.items():
            folder = out / part
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"buckets={buckets[0]}-{buckets[-1]}.parquet"
            copy_atomically(con, relation, target, FORMATS[".parquet"])
    return {
        "buckets": buckets,
        "stores": run.stores,
        "polls": tables.polls,
        "grouped": not tables.keyed,  # whether its polls were grouped to one per store and instant
        "seconds": time.perf_counter() - started,
        "notes": run.notes,
        "tables_seconds": tables_seconds,  # its tables made (bucket_tables), before the report
    }


def bucket_sizes(data: Path, buckets: int, batches: frozenset[str]) -> list[int]:
    """Each bucket's polls in the committed `batches`, in bytes of Parquet (a file's size, not
    its contents: a file that cannot be read fails its own task, saying so)."""
    return [
        sum(path.stat().st_size for path in bucket_files(data, "polls", b, batches))
        for b in range(buckets)
    ]


def task_groups(sizes: list[int], threads: int, per_task: int) -> list[list[int]]:
    """The buckets, consecutive, in tasks of about equal size (`sizes`: their polls' bytes): one
    per thread of the cluster, or more where a task would hold more than `per_task`, in whole
    rounds of one task per thread (a last round of fewer would leave threads waiting for it);
    never more than the buckets.
    A task's fixed cost (its SQL files planned, its tables made: about 0.25 s) is then paid a few
    times per report, not once per bucket."""
    total = sum(sizes)
    rounds = max(1, -(-total // (per_task * max(threads, 1))))
    tasks = min(len(sizes), max(threads, 1) * rounds)
    if not total:  # no polls yet: the buckets by number
        count = len(sizes)
        return [[b for b in range(count) if b * tasks // count == t] for t in range(tasks)]
    target = total / tasks
    groups: list[list[int]] = []
    before = 0  # the bytes of the buckets before this one
    for bucket, bytes_ in enumerate(sizes):
        # A bucket goes to the task whose share of all the bytes holds its middle: a new task
        # when that is past the last one's, or when each bucket left needs a task of its own.
        # (Counted from the start, not from the last task's own bytes: a task of a little less
        # than its share each time left the last one all that was over, at 10x 3.6 M polls
        # against 2.2 M for each other, the report waiting a second for it.)
        share = (before + bytes_ / 2) // target
        opens = len(groups) < tasks and (
            share >= len(groups) or len(sizes) - bucket <= tasks - len(groups)
        )
        if not groups or opens:
            groups.append([])
        groups[-1].append(bucket)
        before += bytes_
    return groups


def bucket_of(store_id: str, buckets: int) -> int:
    with duckdb.connect() as con:
        rule = BUCKET_OF.format(buckets="?").replace("store_id", "?::VARCHAR")
        return scalar(con, f"SELECT {rule}", [store_id, buckets])


def poll_range(manifest: dict | None) -> tuple[int, int] | None:
    """(first, latest) poll of all the data, in epoch microseconds, from its manifest."""
    polls = [b for b in (manifest or {}).get("batches", []) if b["kind"] == "polls" and b["kept"]]
    if not polls:
        return None
    return min(b["first_poll_us"] for b in polls), max(b["latest_poll_us"] for b in polls)


def last_batch(manifest: dict | None) -> dict | None:
    """The batch of data a manifest committed last: what names its data's version (a
    compaction changes no data)."""
    batches = [b for b in (manifest or {}).get("batches", []) if b["kind"] != COMPACTION]
    return batches[-1] if batches else None


def combined_notes(done: list[dict]) -> list[tuple]:
    """The buckets' report notes as one report's: stores added up, the first 5 examples."""
    found: dict[str, list] = {}
    for bucket in done:
        for finding, stores, examples, meaning in bucket["notes"]:
            entry = found.setdefault(finding, [finding, 0, [], meaning])
            entry[1] += stores
            entry[2] = sorted([*entry[2], *examples])[:5]
    return [tuple(entry) for _, entry in sorted(found.items())]


# --- the client's side -------------------------------------------------------------------------


# A local cluster's monitoring, every second rather than every 20-500 ms: it runs for one
# command or one service, and no dashboard watches it. Idle, its processes then take 2.0 s of CPU
# in 30 s instead of 3.6 s (a running cluster keeps the settings its operator gave it).
QUIET_LOCAL_CLUSTER = {
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


@contextmanager
def connect_cluster(scheduler: str) -> Iterator[Client]:
    """A Dask client: `local:N` starts a LocalCluster of N worker processes (one thread each);
    anything else is a scheduler's address (tcp://host:8786)."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler.startswith("local:"):
        workers = int(scheduler.removeprefix("local:") or 2)
        with (
            dask.config.set(QUIET_LOCAL_CLUSTER),
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                scheduler_port=0,
                dashboard_address=":0",
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
    else:
        with Client(scheduler) as client:
            yield client


def ingest(
    client,
    data: Path,
    files: list[Path],
    buckets: int | None = None,
    piece_bytes: int = PIECE_BYTES,
) -> list[dict]:
    """Ingest input files into the data folder, one task per file or piece of `piece_bytes`,
    as one batch per file, all committed in one step, then compacted when a polls file came
    in pieces (storemon/cluster_compact.py); returns each file's counts. A folder
    keeps the K it was made with. One ingest writes at a time (writer_lock): another waits."""
    data = Path(data)
    kinds = [kind_of(Path(f)) for f in files]  # every file's kind, before any work is done
    with writer_lock(data):
        return _ingest_locked(client, data, files, kinds, buckets, piece_bytes)


def _ingest_locked(
    client,
    data: Path,
    files: list[Path],
    kinds: list[str],
    buckets: int | None,
    piece_bytes: int,
) -> list[dict]:
    manifest = read_manifest(data)
    sweep(data, manifest)  # an earlier ingest's files that never committed
    manifest = manifest or new_manifest(buckets)
    if buckets is not None and buckets != manifest["buckets"]:
        raise StoremonError(
            f"{data} holds {manifest['buckets']} buckets; it cannot take --buckets {buckets}"
        )
    first = next_seq(manifest)
    load_time = datetime.now(UTC).isoformat()
    tasks = []  # (file's index, future)
    pieced = False  # whether a polls file came in pieces
    for i, (f, kind) in enumerate(zip(files, kinds, strict=True)):
        path = Path(f).resolve()
        # Polls files may be big: cut in pieces, parsed side by side. Hours and zones are
        # small, and a zone file's check for conflicting zones needs it whole.
        cut = pieces(path, piece_bytes) if kind == "polls" and not is_parquet(path) else []
        pieced = pieced or len(cut) > 1
        batch_id = secrets.token_urlsafe(9)
        whole: list[tuple[int, int, int, int] | None] = [None]
        for piece in cut or whole:
            future = client.submit(
                ingest_file,
                str(path),
                str(data.resolve()),
                kind,
                manifest["buckets"],
                first + i,
                batch_id,
                load_time,
                piece,
                pure=False,
            )
            tasks.append((i, future))
    results = gather(client, [f for _, f in tasks], [f"file {files[i]}" for i, _ in tasks])
    done = []
    for i in range(len(files)):
        parts = [r for (j, _), r in zip(tasks, results, strict=True) if j == i]
        done.append(_combined(parts))
    manifest["batches"].extend(done)
    write_manifest(data, manifest)
    if pieced:
        # A big polls file left a file of each of its pieces in every bucket: merged at once,
        # its polls one per store and instant, so that reports need not group them again.
        from storemon import cluster_compact

        cluster_compact.compact(client, data, manifest)
    return done


def _combined(parts: list[dict]) -> dict:
    """One file's counts, from those of its pieces."""
    whole = dict(parts[0])
    for key in ("rows", "kept", "rejected", "repeats"):
        whole[key] = sum(p[key] for p in parts)
    reasons: dict[str, dict] = {}  # by reason: the counts added up, the first line's example
    for part in parts:
        for why in part["reasons"]:
            seen = reasons.setdefault(why["reason"], why | {"rows": 0})
            if why["line"] < seen["line"]:
                seen.update(line=why["line"], detail=why["detail"], raw=why["raw"])
            seen["rows"] += why["rows"]
    whole["reasons"] = [reasons[reason] for reason in sorted(reasons)]
    firsts = [p["first_poll_us"] for p in parts if p["first_poll_us"] is not None]
    latests = [p["latest_poll_us"] for p in parts if p["latest_poll_us"] is not None]
    whole["first_poll_us"] = min(firsts, default=None)
    whole["latest_poll_us"] = max(latests, default=None)
    whole["pieces"] = len(parts)
    return whole


def compute(client, data: Path, as_of: datetime | None = None) -> dict:
    """Compute the report over the whole data folder, in tasks of whole buckets (task_groups),
    into DATA/reports/<report_id>/; returns its id, `now`, stores, buckets and each task's
    facts."""
    data = Path(data)
    manifest = read_manifest(data)  # the version this report reads, whatever commits meanwhile
    if manifest is None:
        raise StoremonError(f"{data} holds no data: run `storemon cluster ingest` first")
    batches = committed(manifest)
    polls = poll_range(manifest)
    if polls is None:
        raise StoremonError(f"{data} holds no usable polls")
    latest_us = polls[1]
    now_us = latest_us
    if as_of is not None:
        refuse_as_of(as_of, polls)  # the report's own rule, in its own words
        now_us = micros(as_of)
    report_id = secrets.token_urlsafe(16)
    started = time.perf_counter()
    threads = sum(client.nthreads().values())
    groups = task_groups(bucket_sizes(data, manifest["buckets"], batches), threads, TASK_BYTES)
    futures = [
        client.submit(
            report_buckets,
            str(data.resolve()),
            group,
            batches,
            now_us,
            report_id,
            one_per_instant(manifest),
            pure=False,
        )
        for group in groups
    ]
    done = gather(client, futures, [buckets_named(group) for group in groups])
    combine_rollups(data / "reports" / report_id)
    return {
        "report_id": report_id,
        "folder": data / "reports" / report_id,
        "as_of_us": now_us,
        "stores": sum(d["stores"] for d in done),
        "seconds": time.perf_counter() - started,
        "buckets": manifest["buckets"],
        "batch": last_batch(manifest) or {},  # the last batch of the data it read
        "tasks": sorted(done, key=lambda d: d["buckets"][0]),
        "notes": combined_notes(done),
    }


def combine_rollups(folder: Path) -> None:
    """The report's roll-ups from its tasks' group sums (sql/rollups/02_group_rollups.sql adds
    up a group's rows of every task, then rounds), as the part `rollups`."""
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        run_all(con, report_files("00", "01"))  # uptime_ratio
        con.execute(
            "CREATE TEMP VIEW group_sums AS SELECT * FROM "
            f"read_parquet('{sql_text(folder / 'group_sums')}/*.parquet')"
        )
        run_all(con, [path for path in sql_files("rollups") if path.name >= "02"])
        target = folder / FOLDERS["group_rollups"] / "all.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_atomically(con, "group_rollups", target, FORMATS[".parquet"])


def rows_of(folder: Path, part: str) -> str:
    """A computed report's rows of `part` (a folder of FOLDERS), in their relation's order
    (report.ORDER_BY), as a relation."""
    order = ORDER_BY[next(relation for relation, name in FOLDERS.items() if name == part)]
    files = f"{sql_text(Path(folder) / part)}/*.parquet"
    return f"(SELECT * FROM read_parquet('{files}') ORDER BY {order})"


def write_part(folder: Path, part: str, path: Path) -> None:
    """Write a computed report's `part` as CSV or Parquet (by the suffix), atomically: the
    single-node file's bytes."""
    path = Path(path)
    options = copy_options(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        copy_atomically(con, rows_of(folder, part), path, options)


def report(
    client,
    data: Path,
    out: Path,
    as_of: datetime | None = None,
    beside: dict[str, Path] | None = None,
) -> dict:
    """compute(), then write the report to `out` (and its outages and summary, by name, to the
    paths in `beside`)."""
    for path in (out, *(beside or {}).values()):
        copy_options(path)  # a suffix it cannot write is said before any task
    done = compute(client, data, as_of)
    write_part(done["folder"], "report", out)
    for name, path in (beside or {}).items():
        write_part(done["folder"], name, path)
    return done


def buckets_named(group: list[int]) -> str:
    return f"bucket {group[0]}" if len(group) == 1 else f"buckets {group[0]}-{group[-1]}"


def gather(client, futures: list, names: list[str]) -> list:
    """Every future's result; the first that failed for good fails it all, naming which and why
    (a task whose worker died is recomputed by Dask first)."""
    from distributed import wait

    wait(futures)
    failed = [(name, f) for name, f in zip(names, futures, strict=True) if f.status == "error"]
    if failed:
        name, future = failed[0]
        error = future.exception()
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise StoremonError(f"{name} failed: {message}")
    return client.gather(futures)
