"""Append a batch of polls, business hours, time zones, special hours or store groups to the
loaded data (sql/README.md, "Updates").

A batch is parsed by the load's own SQL (sql/load/00 and the source's 1x file: the same
spellings, the same rejections, the same line numbers) and then merged by sql/append/, all in
one transaction: all or nothing. The same batch sent again (a client's retry) changes nothing
the second time: it is recognised by its `Idempotency-Key` when the client sends one, else by
the hash of its content (for hours and zones only when it repeats the latest batch of its kind,
since an older one sent again is a real change back).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import hashlib
import os
import secrets
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, cast

import duckdb

from storemon.alerts import (
    DEFAULT_ALERT_AFTER,
    KINDS_WITH_EVENTS,
    alert_tables,
    baseline,
    record_events,
    report_macros,
)
from storemon.database import (
    ADDED_TABLES,
    one,
    rollback,
    run_all,
    scalar,
    sql_dir,
    sql_text,
    table_names,
)
from storemon.errors import KeyReused, StoremonError
from storemon.ingest import (
    GROUPS,
    HOURS,
    POLLS,
    SPECIAL_HOURS,
    TIMEZONES,
    UTF16_BOMS,
    Source,
    ingest,
    open_input,
    parse_macros,
    use_input,
)
from storemon.instants import ISO, micros
from storemon.rejections import refuse_if_nothing_usable, rejected
from storemon.report import report_files
from storemon.results import BatchAnswer, RejectCount, RejectReason

MIN_KEEP_DAYS = 8
BatchKind = Literal["polls", "hours", "timezones", "special_hours", "groups"]


@dataclass(frozen=True)
class Kind:
    source: Source
    parse: str  # the load's file that parses it
    rows: str  # the table that file makes
    target: str  # the table the batch goes into


KINDS = {
    "polls": Kind(POLLS, "10_poll_rows.sql", "poll_rows", "polls"),
    "hours": Kind(HOURS, "11_hours_rows.sql", "hours_rows", "business_hours"),
    "timezones": Kind(TIMEZONES, "12_timezone_rows.sql", "timezone_rows", "store_timezones"),
    "special_hours": Kind(
        SPECIAL_HOURS, "13_special_hours_rows.sql", "special_hours_rows", "special_hours"
    ),
    "groups": Kind(GROUPS, "14_group_rows.sql", "group_rows", "store_groups"),
}


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def append_batch(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    path: Path,
    *,
    shown: str | None = None,
    idempotency_key: str | None = None,
    keep_days: int | None = None,
    batch_retention: BatchRetention | None = None,
    line_offset: int = 0,
    quote_files: bool = True,
    refresh_quality: bool = True,
    allow_empty: bool = False,
    alert_after: int = DEFAULT_ALERT_AFTER,
    log: Callable[[str], None] = lambda _: None,
) -> BatchAnswer:
    """Append the batch in `path` (CSV with a header) of `kind`, in one transaction.

    A batch with rows none of which is usable is refused unless `allow_empty` (one with no rows
    at all adds nothing, and is taken: a poller may have nothing new).

    With `keep_days`, the polls no report reads any more are dropped; with `batch_retention`,
    the batch log forgets the batches past it (both in the same transaction).

    `data_quality` is made again after it, unless `refresh_quality` is false (the service does
    it once for a burst of batches: refresh_quality()).

    The batch's alert events (storemon/alerts.py, K = `alert_after`) are written in the same
    transaction."""
    if keep_days is not None and keep_days < MIN_KEEP_DAYS:
        raise StoremonError(f"--keep-days must be at least {MIN_KEEP_DAYS} (a report reads a week)")
    spec = KINDS[kind]
    content_hash = file_hash(path)
    with ExitStack() as scratch:
        item = open_input(Path(path), spec.source, scratch, quote_files)
        if shown is not None:
            item = dataclasses.replace(item, path=Path(shown))
        tables = table_names(con)  # asked once: it lists the catalog
        if "polls" not in tables:
            _create_empty_tables(con)
        parse_macros(con)
        if kind in KINDS_WITH_EVENTS:
            report_macros(con)  # (the alerts' local times)
        con.execute("BEGIN TRANSACTION")
        try:
            run_all(con, [_file(name) for name in ("05_batches_table.sql", *ADDED_TABLES.values())])
            if "batches" not in tables:  # loaded before storemon kept batches
                con.execute("SET VARIABLE batch_id = NULL")
                run_all(con, [sql_dir() / "load" / "27_batches.sql"])
            if "alert_state" not in tables and kind in KINDS_WITH_EVENTS:
                baseline(con)  # loaded before storemon kept alerts: the data before the batch
            elif "alert_hours" not in tables and kind in KINDS_WITH_EVENTS:
                alert_tables(con)  # loaded before storemon kept alert_hours: it starts empty
            earlier = _earlier(con, spec, content_hash, idempotency_key)
            if earlier is not None:
                rollback(con)
                log(f"  batch {earlier} was appended before: nothing changed")
                return _result(con, earlier, kind, repeated=True)
            batch_id = secrets.token_urlsafe(16)
            variables = {
                "batch_id": batch_id,
                "batch_source": spec.source.name,
                "batch_file": str(item.path),
                "batch_line_offset": line_offset,
                "content_hash": content_hash,
                "idempotency_key": idempotency_key,
                "keep_days": keep_days,
            }
            for name, value in variables.items():
                con.execute(f"SET VARIABLE {name} = ?", [value])
            use_input(con, item)
            run_all(con, [sql_dir() / "load" / spec.parse])
            reject_control_characters(con, spec, item.read_from)
            con.execute(
                "CREATE OR REPLACE TEMP VIEW batch_rows AS "
                f"SELECT line, raw, store_id, reason, detail FROM {spec.rows}"
            )
            run_all(con, [_file("10_batch_stores.sql")])
            before, replaced = _rows_before(con, spec)
            run_all(con, [_file(f"20_{kind}_{'append' if kind == 'polls' else 'replace'}.sql")])
            kept = scalar(con, f"SELECT count(*) FROM {spec.target}") - before + replaced
            con.execute("SET VARIABLE kept_rows = ?", [kept])
            run_all(con, [_file("30_batch_rejected.sql"), _file("40_batches.sql")])
            events = record_events(con, kind, batch_id, alert_after)
            reasons = rejected(con, batch_id)
            result = _result(con, batch_id, kind, repeated=False, reasons=reasons, events=events)
            if not allow_empty:
                refuse_if_nothing_usable(
                    spec.source.label,
                    item.path,
                    result.rows_read,
                    [r if quote_files else r.unquoted() for r in reasons],
                    what="nothing was appended",
                )
            if keep_days is not None:  # (the latest poll, which the result says, stays)
                apply_poll_retention(con, keep_days)
            if batch_retention is not None:
                forget_old_batches(con, batch_retention)
            if refresh_quality:
                refresh_quality_of(con)
            con.execute("COMMIT")
        except BaseException:
            rollback(con)
            raise
    log(
        f"  {kind}: {result.rows_read:,} rows read, {result.kept:,} kept, "
        f"{result.duplicates:,} counted once, {result.rejected:,} rejected (batch {batch_id})"
    )
    return result


def apply_poll_retention(con: duckdb.DuckDBPyConnection, keep_days: int) -> None:
    """Drop the polls older than the latest poll - `keep_days` days that no report as of the
    latest poll reads (sql/append/50_poll_retention.sql). Which polls are evidence is the
    report's own rule: its files 00-04 run as of the cutoff first, and only when a poll is older
    than the cutoff."""
    cutoff = con.execute(
        "SELECT epoch_us(max(timestamp_utc)) - ? * 86400000000 FROM polls "
        "HAVING epoch_us(min(timestamp_utc)) < epoch_us(max(timestamp_utc)) - ? * 86400000000",
        [keep_days, keep_days],
    ).fetchone()
    if cutoff is None:
        return
    con.execute("SET VARIABLE as_of = make_timestamptz(?::BIGINT)", [cutoff[0]])
    con.execute("SET VARIABLE report_store = NULL")
    try:
        run_all(con, [*report_files("00", "05"), _file("50_poll_retention.sql")])
        if "alert_hours" in table_names(con):  # (a database loaded before storemon kept it)
            run_all(con, [sql_dir() / "alerts" / "40_alert_hours_retention.sql"])
    finally:
        con.execute("RESET VARIABLE as_of")


@dataclass(frozen=True)
class BatchRetention:
    """How long the batch log remembers an appended batch: its row in `batches`, its
    Idempotency-Key and content hash, its rejected rows (sql/append/60_batch_retention.sql)."""

    keep: int | None = 10_000
    """The newest this many appended batches (None: all)."""
    days: float | None = 30
    """Those received in the last this many days (None: no age limit)."""


# A batch over the limit is forgotten only once a tenth more (or an hour older) have come: the
# forgetting, which reads every rejected row, is then paid once for many batches.
SLACK = 0.1
HOUR_US = 3_600_000_000


def forget_old_batches(con: duckdb.DuckDBPyConnection, retention: BatchRetention) -> int:
    """Forget the appended batches past `retention`, inside the caller's transaction (which
    has `batches`); returns how many. Cheap when there is nothing to forget (one look at
    `batches`, about 1 ms)."""
    if retention.keep is None and retention.days is None:
        return 0
    keep = retention.keep
    cutoff_us = (
        None
        if retention.days is None
        else micros(datetime.now(UTC) - timedelta(days=retention.days))
    )
    count, oldest_us = one(
        con, "SELECT count(*), epoch_us(min(received_at)) FROM batches WHERE kind = 'append'"
    )
    over_count = keep is not None and count > keep + max(1, int(keep * SLACK))
    over_age = cutoff_us is not None and oldest_us is not None and oldest_us < cutoff_us - HOUR_US
    if not (over_count or over_age):
        return 0
    con.execute("SET VARIABLE keep_batches = ?::BIGINT", [keep])
    con.execute("SET VARIABLE batch_cutoff = make_timestamptz(?::BIGINT)", [cutoff_us])
    run_all(con, [_file("60_batch_retention.sql")])
    (forgotten,) = one(con, "SELECT count(*) FROM forgotten_batches")
    return forgotten


def refresh_quality_of(con: duckdb.DuckDBPyConnection) -> None:
    """Make data_quality again from the tables as they are (sql/load/26_data_quality.sql)."""
    run_all(con, [sql_dir() / "load" / "26_data_quality.sql"])


def _file(name: str) -> Path:
    return sql_dir() / "append" / name


def reject_control_characters(con: duckdb.DuckDBPyConnection, spec: Kind, path: Path) -> None:
    """As a full load does (sql/load/20_stores.sql, by the rule's macros in
    sql/load/00_parse_macros.sql): a store_id with control characters is no store, and its rows
    are rejected, with their text read again from the batch's file (the parsing keeps the text
    of rejected rows only). Batches are small; this is rare."""
    lines = con.execute(
        f"SELECT line FROM {spec.rows} WHERE reason IS NULL AND has_control_characters(store_id)"
    ).fetchall()
    if not lines:
        return
    wanted = {line for (line,) in lines}
    texts = {}
    with Path(path).open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if number in wanted:
                texts[number] = raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "replace")
    for line, text in texts.items():
        con.execute(
            f"UPDATE {spec.rows} SET reason = 'store_id has control characters', raw = ?, "
            "detail = control_characters_detail(store_id) WHERE line = ?",
            [text, line],
        )


def _rows_before(con: duckdb.DuckDBPyConnection, spec: Kind) -> tuple[int, int]:
    """The target's rows before the batch, and those the batch is about to replace: for hours,
    zones and groups their stores' current rows; for special hours those of the (store, date)
    pairs it names; for polls none."""
    named = (
        "0"
        if spec.target == "polls"
        else "(SELECT count(*) FROM special_hours SEMI JOIN (SELECT stores.store_key, "
        "rows.local_date FROM special_hours_rows AS rows JOIN stores USING (store_id) "
        "WHERE rows.reason IS NULL) AS named USING (store_key, local_date))"
        if spec.target == "special_hours"
        else f"(SELECT count(*) FROM {spec.target} WHERE store_key IN (SELECT stores.store_key "
        f"FROM {spec.rows} JOIN stores USING (store_id) WHERE {spec.rows}.reason IS NULL))"
    )
    before, replaced = one(con, f"SELECT (SELECT count(*) FROM {spec.target}), {named}")
    return before, replaced


def _earlier(
    con: duckdb.DuckDBPyConnection, spec: Kind, content_hash: str, idempotency_key: str | None
) -> str | None:
    """The batch this one repeats, if any. An Idempotency-Key names one batch: one route (its
    source) and one content (its hash); sent again with anything else it is refused."""
    if idempotency_key is not None:
        found = con.execute(
            "SELECT batch_id, source, content_hash FROM batches WHERE idempotency_key = ? LIMIT 1",
            [idempotency_key],
        ).fetchone()
        if found is None:
            return None
        batch_id, source, earlier_hash = found
        if (source, earlier_hash) != (spec.source.name, content_hash):
            other = "other content" if source == spec.source.name else f"a batch of {source}"
            raise KeyReused(
                f"this Idempotency-Key was sent before with {other} (batch {batch_id}); a key "
                "names one batch: send a new batch with a new key (nothing was appended)"
            )
        return batch_id
    if spec.target == "polls":  # a union: the same polls again never change anything
        found = con.execute(
            "SELECT batch_id FROM batches WHERE source = 'polls' AND content_hash = ? LIMIT 1",
            [content_hash],
        ).fetchone()
    else:  # a replacement: only a repeat of the latest one of its kind changes nothing
        found = con.execute(
            "SELECT batch_id FROM (SELECT batch_id, content_hash FROM batches "
            "WHERE source = ? ORDER BY received_at DESC LIMIT 1) WHERE content_hash = ?",
            [spec.source.name, content_hash],
        ).fetchone()
    return found[0] if found else None


def _result(
    con: duckdb.DuckDBPyConnection,
    batch_id: str,
    kind: str,
    *,
    repeated: bool,
    reasons: list[RejectCount] | None = None,
    events: int = 0,
) -> BatchAnswer:
    data_rows, kept_rows, duplicates, rejected_rows, latest_poll = one(
        con,
        "SELECT data_rows, kept_rows, duplicates, rejected, "
        f"strftime(latest_poll, '{ISO}') FROM batches WHERE batch_id = ?",
        [batch_id],
    )
    return BatchAnswer(
        batch_id=batch_id,
        kind=cast(BatchKind, kind),
        rows_read=data_rows,
        kept=kept_rows,
        duplicates=duplicates,
        rejected=rejected_rows,
        rejected_by_reason=[
            RejectReason(r.reason, r.rows, r.line, r.detail, r.raw)
            for r in (rejected(con, batch_id) if reasons is None else reasons)
        ],
        latest_poll=latest_poll,
        repeated=repeated,
        events=events,
    )


def _create_empty_tables(con: duckdb.DuckDBPyConnection) -> None:
    """A database with no data yet gets the loaded tables, empty, as a load of nothing."""
    with tempfile.TemporaryDirectory(prefix="storemon-empty-") as folder:
        headers = {
            "status.csv": "store_id,status,timestamp_utc\n",
            "hours.csv": "store_id,dayOfWeek,start_time_local,end_time_local\n",
            "zones.csv": "store_id,timezone_str\n",
        }
        for name, header in headers.items():
            (Path(folder) / name).write_text(header)
        status, hours, zones = (Path(folder) / name for name in headers)
        ingest(con, status, hours, zones, allow_empty=True)


PARQUET_MAGIC = b"PAR1"  # how a Parquet file begins, and ends


def is_parquet(path: Path) -> bool:
    with Path(path).open("rb") as handle:
        return handle.read(4) == PARQUET_MAGIC


def kind_of(path: Path) -> str:
    """polls, hours, timezones, special_hours or groups: the input whose required columns the
    file has, each by one of its accepted names (ingest.Source.columns; case and blanks around
    do not matter, as for the loader), from its CSV header (UTF-8 or UTF-16) or its Parquet
    columns. The message quotes nothing of the file."""
    names = {name.strip().lower() for name in _column_names(Path(path))}
    for kind, spec in KINDS.items():
        if all(
            any(name.lower() in names for name in spellings)
            for spellings in spec.source.columns.values()
        ):
            return kind
    raise StoremonError(
        "its columns are those of no input (polls: store_id, status, timestamp_utc; hours: "
        "store_id, dayOfWeek, start_time_local, end_time_local; time zones: store_id, "
        "timezone_str; special hours: store_id, date, start_time_local, end_time_local; store "
        "groups: store_id, group)"
    )


def _column_names(path: Path) -> list[str]:
    with path.open("rb") as handle:  # (a header line longer than 64 KiB is no header)
        head = handle.read(64 * 1024)
    if head[:4] == PARQUET_MAGIC:
        with duckdb.connect() as con:
            found = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{sql_text(path)}')")
            return [row[0] for row in found.fetchall()]
    if head[:2] in UTF16_BOMS:
        whole = len(head) < 64 * 1024
        try:  # (incremental: unless it is the whole file, the 64 KiB may end inside a character)
            decoded = codecs.getincrementaldecoder("utf-16")().decode(head, final=whole)
        except UnicodeDecodeError:
            raise StoremonError(
                "it starts with a UTF-16 byte order mark but is not UTF-16 text; save it as CSV "
                "UTF-8"
            ) from None
        text = decoded.splitlines()[0] if decoded else ""
    else:
        text = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    return next(csv.reader([text.strip("\r\n")]), [])


def as_csv(path: Path, media: str, kind: str, scratch: ExitStack) -> tuple[Path, int]:
    """A batch as CSV with a header, and the offset that turns its CSV line numbers into the
    caller's: CSV as it is (0); JSON (an array of objects, or one object a line) as a CSV of
    the first object's keys, each object's line number its position (-1); Parquet as CSV (0)."""
    if media in ("text/csv", "csv"):
        return Path(path), 0
    handle, name = tempfile.mkstemp(prefix="storemon-batch-", suffix=".csv")
    os.close(handle)
    target = Path(name)
    scratch.callback(target.unlink, missing_ok=True)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        if media == "parquet":
            source = f"read_parquet('{sql_text(path)}')"
            columns = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            picked = ", ".join(_as_text(column, kind) for column, kind, *_ in columns)
            con.execute(f"COPY (SELECT {picked} FROM {source}) TO '{sql_text(target)}' (HEADER)")
            return target, 0
        form = "array" if media == "application/json" else "newline_delimited"
        source = f"read_json_objects('{sql_text(path)}', format = '{form}')"
        try:
            first = con.execute(f"SELECT json_keys(json) FROM {source} LIMIT 1").fetchone()
            if first is None:  # no objects: a batch of no rows, if the body says so
                _no_objects_at_all(path, form)
                names = (names[0] for names in KINDS[kind].source.columns.values())
                target.write_text(",".join(names) + "\n")
                return target, -1
            keys = first[0] or []
            if not keys:
                raise StoremonError(
                    "the body's first element is not an object naming the columns "
                    '(e.g. {"store_id": "...", "status": "active", "timestamp_utc": "..."})'
                )
            picked = ", ".join(f"json ->> '{sql_text(key)}' AS {_quoted(key)}" for key in keys)
            con.execute(f"COPY (SELECT {picked} FROM {source}) TO '{sql_text(target)}' (HEADER)")
        except (duckdb.Error, UnicodeError) as error:
            expected = "a JSON array of objects" if form == "array" else "one JSON object a line"
            said = "it is not UTF-8" if isinstance(error, UnicodeError) else str(error)
            said = said.splitlines()[0].replace(f'"{path}"', "the body").replace(str(path), "it")
            raise StoremonError(f"the body is not {expected}: {said}") from None
    return target, -1


JSON_BLANKS = b" \t\r\n"  # the only characters JSON allows between tokens


def _no_objects_at_all(path: Path, form: str) -> None:
    """A body DuckDB read no object from is a batch of no rows only when it is `[]` (an array)
    or blank (one object a line), in JSON's own blanks; anything else is not JSON."""
    with Path(path).open("rb") as body:
        text = body.read(1 << 16).strip(JSON_BLANKS)
    if form == "array":
        empty = text.startswith(b"[") and text.endswith(b"]") and not text[1:-1].strip(JSON_BLANKS)
        if not empty:
            raise StoremonError("the body is not a JSON array of objects")
    elif text:
        raise StoremonError("the body is not one JSON object a line")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _as_text(column: str, kind: str) -> str:
    quoted = _quoted(column)
    if kind.startswith("TIMESTAMP"):  # ISO in UTC, as the polls file spells it
        return f"strftime({quoted}::TIMESTAMPTZ, '%Y-%m-%d %H:%M:%S.%f') AS {quoted}"
    return f"{quoted}::VARCHAR AS {quoted}"
