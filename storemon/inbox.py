"""The drop folder: `storemon serve --inbox DIR` appends every file that appears in DIR.

A poller writes its file under a temporary name (a leading `.`, or `.tmp`, `.part`, `.partial`
at the end) and renames it in when it is whole, the usual convention. Files are taken in name
order; each is recognised by its header (or Parquet columns) as polls, hours or zones, appended
as one batch, then moved to DIR/done/, or to DIR/failed/ with DIR/failed/NAME.error saying why.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import duckdb

from storemon.append import is_parquet
from storemon.database import sql_text
from storemon.errors import StoremonError
from storemon.service import ReportService

log = logging.getLogger("storemon.inbox")

PARTIAL = (".tmp", ".part", ".partial")
EVERY = 1.0  # seconds between looks at the folder


def kind_of(path: Path) -> str:
    """polls, hours or timezones, by the file's column names."""
    if is_parquet(path):
        with duckdb.connect() as con:
            names = [row[0] for row in con.execute(f"DESCRIBE FROM '{sql_text(path)}'").fetchall()]
    else:
        with path.open("rb") as handle:
            head = handle.readline(64 * 1024)
        text = (
            head.decode("utf-16")
            if head[:2] in (b"\xff\xfe", b"\xfe\xff")
            else head.decode("utf-8-sig", errors="replace")
        )
        names = [name.strip().strip('"') for name in text.strip().split(",")]
    columns = {name.strip().lower() for name in names}
    if {"status", "timestamp_utc"} <= columns:
        return "polls"
    if columns & {"dayofweek", "day", "day_of_week", "weekday"}:
        return "hours"
    if "timezone_str" in columns:
        return "timezones"
    raise StoremonError(
        "its columns are not those of polls (store_id, status, timestamp_utc), business hours "
        "(store_id, dayOfWeek, start_time_local, end_time_local) or time zones (store_id, "
        "timezone_str)"
    )


class Inbox:
    def __init__(self, folder: Path, service: ReportService) -> None:
        self.folder = Path(folder)
        self.done = self.folder / "done"
        self.failed = self.folder / "failed"
        for path in (self.folder, self.done, self.failed):
            path.mkdir(parents=True, exist_ok=True)
        self.service = service
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="inbox", daemon=True)

    def start(self) -> None:
        self.thread.start()
        log.info("watching %s for batches", self.folder)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.take_all()
            except Exception:  # a bad moment for the folder; look again soon
                log.exception("inbox: could not read %s", self.folder)
            self.stopping.wait(EVERY)

    def take_all(self) -> int:
        taken = 0
        for path in sorted(self.folder.iterdir()):
            if self.stopping.is_set():
                break
            if not path.is_file() or path.name.startswith(".") or path.name.endswith(PARTIAL):
                continue
            self.take(path)
            taken += 1
        return taken

    def take(self, path: Path) -> None:
        try:
            kind = kind_of(path)
            media = "parquet" if is_parquet(path) else "text/csv"
            result = self.service.append(
                kind, path, shown=str(path), idempotency_key=None, media=media
            )
        except Exception as error:  # any failure is the file's, never the watcher's
            message = str(error) if isinstance(error, StoremonError) else repr(error)
            target = _free_name(self.failed / path.name)
            os.replace(path, target)
            target.with_name(target.name + ".error").write_text(message + "\n")
            log.warning("inbox: %s failed: %s", path.name, message)
            return
        os.replace(path, _free_name(self.done / path.name))
        log.info(
            "inbox: %s appended as %s batch %s (%d rows read, %d kept, %d rejected)",
            path.name,
            kind,
            result.batch_id,
            result.data_rows,
            result.kept_rows,
            result.rejected,
        )


def _free_name(path: Path) -> Path:
    """`path`, or `path` with .1, .2 ... before its suffix if that name is taken."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
    return candidate
