class StoremonError(Exception):
    """A problem the user can fix; the message says what and how."""


class DatabaseBusy(StoremonError):
    """Another process (usually `storemon serve`) holds the database file."""
