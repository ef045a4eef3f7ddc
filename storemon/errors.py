class StoremonError(Exception):
    """A problem the user can fix; the message says what and how."""
