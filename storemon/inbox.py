"""The drop folder: `storemon serve --inbox DIR` appends every file that appears in DIR.

A poller writes its file under a temporary name (a leading `.`, or `.tmp`, `.part`, `.partial`
at the end) and renames it in when it is whole, the usual convention. Files are taken in name
order; each is recognised by its header (or Parquet columns) as polls, hours or zones, appended
as one batch, then moved to DIR/done/, or to DIR/failed/ with DIR/failed/NAME.error saying why.
Only regular files inside DIR are read, never through a link (a link is set aside unread), and
neither NAME.error nor the log quotes what a file holds: whoever can drop a file in DIR reads
nothing else through it.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
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
        # Entries that cannot be moved out of DIR (failed/ is not a folder, a name too long for
        # it): name -> why. Each is said once, in the log, /health and the data-quality page,
        # and skipped while it is there; the files after it go on.
        self.stuck: dict[str, str] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="inbox", daemon=True)

    def stuck_files(self) -> list[tuple[str, str]]:
        """(name, why) of each entry that cannot be moved out of DIR, by name."""
        return sorted(dict(self.stuck).items())

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
        with os.scandir(self.folder) as found:
            entries = sorted(found, key=lambda entry: entry.name)
        present = {entry.name for entry in entries}
        for name in [name for name in self.stuck if name not in present]:
            del self.stuck[name]  # someone took it away: nothing to say any more
        for entry in entries:
            if self.stopping.is_set():
                break
            if entry.name.startswith(".") or entry.name.endswith(PARTIAL):
                continue
            if entry.name in self.stuck:
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                self._set_aside(
                    path,
                    "a symbolic link: the drop folder takes only regular files "
                    "inside it, and never follows a link",
                )
                continue
            if not entry.is_file(follow_symlinks=False):
                continue  # done/, failed/ and other folders
            self.take(path)
            taken += 1
        return taken

    def take(self, path: Path) -> None:
        try:
            with tempfile.TemporaryDirectory(prefix="storemon-inbox-") as scratch:
                copy = _copy_regular_file(path, Path(scratch))
                kind = kind_of(copy)
                media = "parquet" if is_parquet(copy) else "text/csv"
                result = self.service.append(
                    kind, copy, shown=str(path), idempotency_key=None, media=media
                )
        except Exception as error:  # any failure is the file's, never the watcher's
            # The service's own messages never quote a file; another exception's text might
            # (a decoding error carries the bytes), so only its kind is told.
            message = (
                str(error)
                if isinstance(error, StoremonError)
                else f"{type(error).__name__} while reading it (nothing was appended)"
            )
            self._set_aside(path, message)
            return
        try:
            os.replace(path, _free_name(self.done / path.name))
        except OSError as error:
            self._stuck(
                path,
                f"appended as batch {result.batch_id}, but it cannot be moved to "
                f"done/: {error.strerror}",
            )
            return
        log.info(
            "inbox: %s appended as %s batch %s (%d rows read, %d kept, %d rejected)",
            path.name,
            kind,
            result.batch_id,
            result.data_rows,
            result.kept_rows,
            result.rejected,
        )

    def _set_aside(self, path: Path, message: str) -> None:
        """Move the entry itself (a link stays a link) to failed/, with NAME.error beside it
        (a shorter name when NAME.error would be longer than a name may be)."""
        log.warning("inbox: %s failed: %s", path.name, message)
        try:
            target = _free_name(self.failed / path.name)
            os.replace(path, target)
        except OSError as error:
            self._stuck(path, f"{message}; and it cannot be moved to failed/: {error.strerror}")
            return
        try:
            _error_file(target).write_text(message + "\n")
        except OSError as error:
            log.warning("inbox: %s: its .error cannot be written: %s", path.name, error.strerror)

    def _stuck(self, path: Path, why: str) -> None:
        self.stuck[path.name] = why
        log.error(
            "inbox: %s stays in %s, skipped until it is moved away: %s", path.name, self.folder, why
        )


def _copy_regular_file(path: Path, folder: Path) -> Path:
    """A private copy of the regular file at `path`, opened without following a link (and
    without waiting on a FIFO), and checked to be a regular file once open: what is read is
    what was checked, whatever replaces the name meanwhile."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise StoremonError(f"it cannot be opened as a regular file ({error.strerror})") from None
    with os.fdopen(handle, "rb") as source:
        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
            raise StoremonError("it is not a regular file: the drop folder takes only those")
        copy = folder / path.name
        with copy.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
    return copy


NAME_MAX = 255  # bytes in one file name, on the file systems storemon runs on


def _error_file(target: Path) -> Path:
    """NAME.error beside `target`, its name cut (never mid-character) to fit NAME_MAX."""
    room = NAME_MAX - len(b".error")
    name = target.name.encode()[:room].decode("utf-8", errors="ignore")
    return target.with_name(name + ".error")


def _free_name(path: Path) -> Path:
    """`path`, or `path` with .1, .2 ... before its suffix if that name is taken."""
    candidate, n = path, 0
    while os.path.lexists(candidate):  # a link there counts, dangling or not
        n += 1
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
    return candidate
