"""A finished report's files beside the database: `reports/<id>.csv` and `.parquet`, and its
outages' and summary's (`<id>.outages.csv`, ...); written atomically by the backends, linked for
the reports that share a computation, removed by retention or a failure. The files read last
are also held in memory, a few MB in all, so that answering one is one write to the socket (a
file read from disk for each answer waited on threads behind the handlers)."""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from storemon.report import FORMATS, OUTPUTS

# A finished report's files, by suffix after its id, and the output (report.OUTPUTS) in each.
FILES = {f"{'.' + name if name else ''}{form}": name for name in OUTPUTS for form in FORMATS}
SUFFIXES = tuple(FILES)
GZIP = ".gz"  # a file's gzip-compressed copy, made at the first client that takes it
HELD_BYTES = 32 * 2**20  # the files read last, held in memory: at most this many bytes in all
HELD_FILE_BYTES = HELD_BYTES // 4  # and each at most this big (a larger one is streamed)


class ReportFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._held: OrderedDict[Path, bytes] = OrderedDict()  # the one read least recently first
        self._held_bytes = 0
        self._lock = threading.Lock()

    def content(self, path: Path) -> bytes | None:
        """A finished report's file (or its gzip copy) as bytes, held in memory or read now;
        None when it is larger than HELD_FILE_BYTES (the caller streams it)."""
        with self._lock:
            if path in self._held:
                self._held.move_to_end(path)
                return self._held[path]
        if path.stat().st_size > HELD_FILE_BYTES:
            return None
        content = path.read_bytes()
        with self._lock:
            if path not in self._held:
                self._held[path] = content
                self._held_bytes += len(content)
            while self._held_bytes > HELD_BYTES:
                _, gone = self._held.popitem(last=False)
                self._held_bytes -= len(gone)
        return content

    def _forget(self, paths: list[Path]) -> None:
        with self._lock:
            for path in paths:
                gone = self._held.pop(path, None)
                if gone is not None:
                    self._held_bytes -= len(gone)

    def file(self, report_id: str, suffix: str) -> Path:
        return self.folder / f"{report_id}{suffix}"

    def outputs(self, report_id: str) -> list[tuple[str, Path]]:
        """(output name, path) of each file a computation of `report_id` writes."""
        return [(name, self.file(report_id, suffix)) for suffix, name in FILES.items()]

    def complete(self, report_id: str) -> bool:
        return all(self.file(report_id, suffix).exists() for suffix in SUFFIXES)

    def share(self, leader: str, follower: str) -> None:
        """The follower's files as the same bytes as the leader's."""
        for suffix in SUFFIXES:
            link(self.file(leader, suffix), self.file(follower, suffix))

    def remove(self, report_ids: list[str]) -> None:
        for report_id in report_ids:
            for suffix in SUFFIXES:
                path = self.file(report_id, suffix)
                packed = Path(f"{path}{GZIP}")
                self._forget([path, packed])
                path.unlink(missing_ok=True)
                packed.unlink(missing_ok=True)

    @staticmethod
    def gzipped(path: Path) -> Path:
        """`path` gzip-compressed beside it (`<file>.gz`), made at the first ask, atomically
        (two at once each write their own temporary file; the last rename wins, same bytes)."""
        packed = Path(f"{path}{GZIP}")
        if not packed.exists():
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=GZIP)
            try:
                with (
                    os.fdopen(handle, "wb") as raw,
                    gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as out,
                    path.open("rb") as source,
                ):
                    shutil.copyfileobj(source, out, 1 << 20)
                os.replace(name, packed)
            except BaseException:
                Path(name).unlink(missing_ok=True)
                raise
        return packed


def link(source: Path, target: Path) -> None:
    """`target` as the same bytes as `source`: a hard link, or a copy where links fail."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
