"""The key that every write to the service needs (`Authorization: Bearer <token>`).

The token is `STOREMON_TOKEN` when that is set; otherwise the service creates one at its first
start (128 random bits) in `<db>.token`, beside the database, readable by its owner alone. The
commands that hand work to a running service (`storemon ingest`, ...) read it from the same
places, so whoever may read the database may write to the service, and nobody else.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from storemon.errors import StoremonError

TOKEN_ENV = "STOREMON_TOKEN"
MIN_LENGTH = 16


def token_file(db: Path) -> Path:
    return Path(db).with_name(Path(db).name + ".token")


def service_token(db: Path) -> str:
    """The token the service requires: from the environment, else the file (made if missing)."""
    return kept_secret(token_file(db), TOKEN_ENV, "the service's key")


def kept_secret(path: Path, env: str, what: str) -> str:
    """A secret kept like the service's key: `$env` when set, else the file `path`, made at
    first use (128 random bits, readable by its owner alone) and refused if anyone else may
    read or change it. (The key, and the secret alerts are signed with: storemon/notify/.)"""
    if env in os.environ:
        return _checked(os.environ[env], f"${env}")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two services starting at once cannot both write it; 0600 from the start.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path, what)
    with os.fdopen(handle, "w") as out:
        out.write(secrets.token_urlsafe(16) + "\n")
    return _read(path, what)


def client_token(db: Path) -> str | None:
    """The token a command hands to the service with its work, if this user can know it."""
    if TOKEN_ENV in os.environ:
        return os.environ[TOKEN_ENV].strip()
    path = token_file(db)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None
    except PermissionError:
        raise StoremonError(
            f"{path} (the service's key) is not readable by you: run as its owner, or set "
            f"{TOKEN_ENV}"
        ) from None


def _read(path: Path, what: str = "the service's key") -> str:
    """The secret in `path`, which must be a regular file (not a link) of this user's alone:
    one that another user owns, or others may read, is someone else's key."""
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise StoremonError(
            f"{path} should hold {what} but cannot be opened as a file of its own "
            f"({error.strerror}): delete it to have a new one made"
        ) from None
    with os.fdopen(handle) as source:
        info = os.fstat(source.fileno())
        mode = stat.S_IMODE(info.st_mode)
        if not stat.S_ISREG(info.st_mode):
            raise StoremonError(f"{path} should hold {what} but is not a regular file")
        if info.st_uid != os.geteuid():
            raise StoremonError(
                f"{path} holds {what} but belongs to another user (uid "
                f"{info.st_uid}, not {os.geteuid()}): whoever owns it can change it. Run "
                f"`chown {os.geteuid()} {path}` as root if it is yours, or delete it to have a "
                "new one made"
            )
        if mode & 0o077:
            raise StoremonError(
                f"{path} holds {what} but others may read it (mode {mode:04o}): "
                f"run `chmod 600 {path}`, or delete it to have a new one made"
            )
        return _checked(source.read(), str(path))


def _checked(token: str, where: str) -> str:
    token = token.strip()
    if len(token) < MIN_LENGTH or not token.isprintable() or " " in token:
        raise StoremonError(
            f"{where}: a token is at least {MIN_LENGTH} printable characters without blanks "
            "(e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(16))'`)"
        )
    return token
