"""The drop folder: `storemon serve --inbox DIR` appends every file that appears in DIR.

A poller writes its file under a temporary name (a leading `.`, or `.tmp`, `.part`, `.partial`
at the end) and renames it in when it is whole, the usual convention. Beyond it, a file is
taken only once it has stopped changing (same size and time on two looks, and untouched for
`settle` seconds) and ends as a whole file does (a line break; Parquet's closing magic): one
that does not waits ten times longer, then is taken as it is. Files are taken in name order;
each is recognised by its header (or Parquet columns) as polls, hours or zones, appended as one
batch, then moved to DIR/done/, or to DIR/failed/ with DIR/failed/NAME.error saying why.

Only regular files inside DIR are read, never through a link: a link (dangling or not), a FIFO,
a socket or a device is set aside unread. Neither NAME.error nor the log quotes what a file
holds: whoever can drop a file in DIR reads nothing else through it. What is not taken is said
once (the log, /health's `inbox`, the data-quality page), never passed over silently: entries
waiting (a temporary name, a file still changing), folders left alone, and entries stuck
because they cannot be moved out of DIR.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO

from storemon.append import PARQUET_MAGIC, is_parquet, kind_of
from storemon.errors import StoremonError
from storemon.service import ReportService

log = logging.getLogger("storemon.inbox")

PARTIAL = (".tmp", ".part", ".partial")
EVERY = 1.0  # seconds between looks at the folder (at most; less when `settle` is shorter)
SETTLE = 2.0  # seconds a file must be left untouched before it is taken
UNFINISHED = 10  # times `settle` a file not ending as a whole file waits before it is taken


class Inbox:
    def __init__(self, folder: Path, service: ReportService, settle: float = SETTLE) -> None:
        self.folder = Path(folder)
        self.done = self.folder / "done"
        self.failed = self.folder / "failed"
        for path in (self.folder, self.done, self.failed):
            path.mkdir(parents=True, exist_ok=True)
        self.service = service
        self.settle = settle
        self.every = max(0.05, min(EVERY, settle))
        # What each entry looked like at the previous look: (inode, size, mtime_ns).
        self.seen: dict[str, tuple[int, int, int]] = {}
        # Entries not taken, name -> why, each said once and dropped when the entry goes away:
        # waiting (will be taken: a temporary name, still changing), ignored (folders), stuck
        # (cannot be moved out of DIR: failed/ is not a folder, a name too long for it; skipped
        # while there, the files after it go on).
        self.waiting: dict[str, str] = {}
        self.ignored: dict[str, str] = {}
        self.stuck: dict[str, str] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="inbox", daemon=True)

    def stuck_files(self) -> list[tuple[str, str]]:
        """(name, why) of each entry that cannot be moved out of DIR, by name."""
        return sorted(dict(self.stuck).items())

    def waiting_files(self) -> list[tuple[str, str]]:
        """(name, why) of each entry left for a later look: a temporary name, still changing."""
        return sorted(dict(self.waiting).items())

    def ignored_entries(self) -> list[tuple[str, str]]:
        """(name, why) of each folder in DIR other than done/ and failed/: never taken."""
        return sorted(dict(self.ignored).items())

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
            self.stopping.wait(self.every)

    def take_all(self) -> int:
        taken = 0
        with os.scandir(self.folder) as found:
            entries = sorted(found, key=lambda entry: entry.name)
        present = {entry.name for entry in entries}
        for said in (self.seen, self.waiting, self.ignored, self.stuck):
            for name in [name for name in said if name not in present]:
                del said[name]  # someone took it away: nothing to say any more
        for entry in entries:
            if self.stopping.is_set():
                break
            if entry.name in self.stuck or (
                entry.name in ("done", "failed") and entry.is_dir(follow_symlinks=False)
            ):
                continue
            path = Path(entry.path)
            if entry.name.startswith(".") or entry.name.endswith(PARTIAL):
                self._wait(
                    entry.name,
                    "a temporary name (a leading '.', or .tmp, .part, .partial at the end): "
                    "taken once renamed without it",
                )
            elif entry.is_symlink():
                self._set_aside(
                    path,
                    "a symbolic link: the drop folder takes only regular files "
                    "inside it, and never follows a link",
                )
            elif entry.is_dir(follow_symlinks=False):
                if entry.name not in self.ignored:
                    self.ignored[entry.name] = (
                        "a folder: the drop folder takes files, not folders; it is left alone"
                    )
                    log.info("inbox: %s is left alone: a folder", entry.name)
            elif not entry.is_file(follow_symlinks=False):
                kind = _kind_of_entry(entry.stat(follow_symlinks=False).st_mode)
                self._set_aside(path, f"{kind}: the drop folder takes only regular files")
            elif self._settled(entry):
                taken += self.take(path)
        return taken

    def _settled(self, entry: os.DirEntry[str]) -> bool:
        """Whether the file has stopped changing: as it was at the previous look, and
        untouched for `settle` seconds. Till then it waits."""
        info = entry.stat(follow_symlinks=False)
        looks = (info.st_ino, info.st_size, info.st_mtime_ns)
        before, self.seen[entry.name] = self.seen.get(entry.name), looks
        if before == looks and time.time() - info.st_mtime_ns / 1e9 >= self.settle:
            return True
        self._wait(entry.name, "still being written: taken once it stops changing", say=False)
        return False

    def take(self, path: Path) -> int:
        """Append the file at `path` and move it out of DIR: 1 if it was taken, 0 if it is
        left for a later look (it changed, or it does not end as a whole file yet)."""
        try:
            with tempfile.TemporaryDirectory(prefix="storemon-inbox-") as scratch:
                copy = _copy_regular_file(
                    path, Path(scratch), self.seen.get(path.name), self.settle * UNFINISHED
                )
                if copy is None:
                    self._wait(
                        path.name,
                        "it does not end as a whole file does (a line break, or Parquet's "
                        f"closing bytes): taken as it is once unchanged for "
                        f"{self.settle * UNFINISHED:g} s",
                    )
                    return 0
                try:
                    kind = kind_of(copy)
                except StoremonError as error:
                    raise StoremonError(f"{error}; nothing was appended") from None
                media = "parquet" if is_parquet(copy) else "text/csv"
                result = self.service.append(
                    kind, copy, shown=str(path), idempotency_key=None, media=media
                )
        except _Changed:
            self._wait(path.name, "still being written: taken once it stops changing", say=False)
            return 0
        except Exception as error:  # any failure is the file's, never the watcher's
            # The service's own messages never quote a file; another exception's text might
            # (a decoding error carries the bytes), so only its kind is told.
            message = (
                str(error)
                if isinstance(error, StoremonError)
                else f"{type(error).__name__} while reading it (nothing was appended)"
            )
            self._set_aside(path, message)
            return 1
        self.waiting.pop(path.name, None)
        try:
            os.replace(path, _free_name(self.done / path.name))
        except OSError as error:
            self._stuck(
                path,
                f"appended as batch {result.batch_id}, but it cannot be moved to "
                f"done/: {error.strerror}",
            )
            return 1
        log.info(
            "inbox: %s appended as %s batch %s (%d rows read, %d kept, %d rejected)",
            path.name,
            kind,
            result.batch_id,
            result.rows_read,
            result.kept,
            result.rejected,
        )
        return 1

    def _wait(self, name: str, why: str, say: bool = True) -> None:
        """Leave the entry for a later look, saying why in the log (once) if `say`, and in
        /health while it waits."""
        if say and self.waiting.get(name) != why:
            log.info("inbox: %s waits: %s", name, why)
        self.waiting[name] = why

    def _set_aside(self, path: Path, message: str) -> None:
        """Move the entry itself (a link stays a link) to failed/, with NAME.error beside it
        (a shorter name when NAME.error would be longer than a name may be)."""
        self.waiting.pop(path.name, None)
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


class _Changed(Exception):
    """The file changed between the look that found it settled and its reading."""


def _kind_of_entry(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _copy_regular_file(
    path: Path, folder: Path, seen: tuple[int, int, int] | None, unfinished_wait: float
) -> Path | None:
    """A private copy of the regular file at `path`, opened without following a link (and
    without waiting on a FIFO), and checked to be a regular file once open: what is read is
    what was checked, whatever replaces the name meanwhile. It must be the file `seen` at the
    last look, unchanged while it is copied (else _Changed); None when it does not end as a
    whole file does and has been unchanged for less than `unfinished_wait` seconds."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise StoremonError(f"it cannot be opened as a regular file ({error.strerror})") from None
    with os.fdopen(handle, "rb") as source:
        info = os.fstat(source.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise StoremonError("it is not a regular file: the drop folder takes only those")
        looks = (info.st_ino, info.st_size, info.st_mtime_ns)
        if looks != seen:
            raise _Changed
        if not _ends_whole(source, info.st_size) and (
            time.time() - info.st_mtime_ns / 1e9 < unfinished_wait
        ):
            return None
        source.seek(0)
        copy = folder / path.name
        with copy.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
        after = os.fstat(source.fileno())
        if (after.st_size, after.st_mtime_ns) != (info.st_size, info.st_mtime_ns):
            raise _Changed
    return copy


def _ends_whole(source: BinaryIO, size: int) -> bool:
    """Whether the open file ends as a whole file does: Parquet's closing magic, or else a
    line break (UTF-16's too)."""
    source.seek(0)
    head = source.read(4)
    source.seek(max(0, size - 4))
    tail = source.read(4)
    if head == PARQUET_MAGIC:
        return tail == PARQUET_MAGIC
    return tail.endswith((b"\n", b"\r", b"\n\x00", b"\r\x00", b"\x00\n", b"\x00\r"))


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
