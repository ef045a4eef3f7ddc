"""The errors storemon means, and how it recognises the ones the machine means."""

import errno


class StoremonError(Exception):
    """A problem the user can fix; the message says what and how."""


class DatabaseBusy(StoremonError):
    """Another process (usually `storemon serve`) holds the database file."""


class KeyReused(StoremonError):
    """An Idempotency-Key sent again with other content, or on another route: refused, never
    taken for a repeat (which would drop the new rows)."""


class BadAsOf(StoremonError):
    """A report asked for an instant outside the loaded data's range."""


class DiskFull(StoremonError):
    """No space left where the data or the reports are written: nothing was changed."""


NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
NO_SPACE_WORDS = ("No space left on device", "Disk quota exceeded")


def is_disk_full(error: BaseException | None) -> bool:
    """Whether `error`, or one it was raised from, says the disk is full: an OSError with
    ENOSPC or EDQUOT, or DuckDB's IO error quoting the system's words."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, DiskFull) or (isinstance(error, OSError) and error.errno in NO_SPACE):
            return True
        if any(words in str(error) for words in NO_SPACE_WORDS):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False
