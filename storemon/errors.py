class StoremonError(Exception):
    """A problem the user can fix; the message says what and how."""


class DatabaseBusy(StoremonError):
    """Another process (usually `storemon serve`) holds the database file."""


class KeyReused(StoremonError):
    """An Idempotency-Key sent again with other content, or on another route: refused, never
    taken for a repeat (which would drop the new rows)."""
