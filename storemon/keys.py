"""Keys, and who holds them: each key reads the stores of its groups (an admin key every store;
a key of no group none: a poller's), may append (`write`) or may do everything (`admin`).

A key is made once (`storemon keys add`), printed once, and stored only as its SHA-256
(`api_keys`, sql/service/09_api_keys.sql): a key is 190 random bits, so a hash that cannot be
reversed is as good as the key is long, and the database never holds one. The service's own
token (storemon/auth.py) is the admin key: a request's key is compared with it in constant time,
and found among the others by its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import msgspec

from storemon.database import run_all, sql_dir
from storemon.errors import StoremonError

KEY_PREFIX = "smk_"


class KeyExists(StoremonError):
    """A current key already has the name."""


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@:-]{0,63}")
GROUP_MAX = 200  # the longest group label (sql/load/00_parse_macros.sql, group_max_length)


@dataclass(frozen=True)
class Principal:
    """Who a request is: a key's holder, the service's token (admin), or, where reads are open,
    anyone."""

    name: str
    groups: frozenset[str] | None  # the groups whose stores it reads; None: every store
    write: bool = False
    admin: bool = False


ADMIN = Principal("token", None, write=True, admin=True)
ANYONE = Principal("anyone", None)  # --reads open: a request without a key reads every store


class KeyInfo(msgspec.Struct):
    """A key as `storemon keys list` shows it (never the key)."""

    name: str
    groups: list[str] | None
    write: bool
    admin: bool
    created_at: str
    revoked_at: str | None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    run_all(con, [sql_dir() / "service" / "09_api_keys.sql"])


def add_key(
    con: duckdb.DuckDBPyConnection,
    name: str,
    groups: list[str] | None = None,
    write: bool = False,
    admin: bool = False,
) -> str:
    """Make a key named `name` and return it (the only time it is seen)."""
    if not NAME.fullmatch(name):
        raise StoremonError(
            f"a key's name is 1 to 64 letters, digits and _.@:- , starting with a letter or "
            f"digit (not {name!r})"
        )
    for group in groups or []:
        if not group.strip() or len(group) > GROUP_MAX or not group.isprintable():
            raise StoremonError(f"a group is 1 to {GROUP_MAX} printable characters (not {group!r})")
    ensure_table(con)
    if con.execute(
        "SELECT 1 FROM api_keys WHERE name = ? AND revoked_at IS NULL", [name]
    ).fetchone():
        raise KeyExists(f"a key named {name!r} exists: revoke it first, or choose another name")
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    con.execute(
        "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, NULL)",
        [
            name,
            digest(key),
            sorted({g.strip() for g in groups}) if groups else None,
            write,
            admin,
            datetime.now(UTC),
        ],
    )
    return key


def revoke_key(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Revoke the key named `name`; False when there is no such key (or it was revoked)."""
    ensure_table(con)
    found = con.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL RETURNING name",
        [datetime.now(UTC), name],
    ).fetchall()
    return bool(found)


def list_keys(con: duckdb.DuckDBPyConnection) -> list[KeyInfo]:
    ensure_table(con)
    rows = con.execute(
        "SELECT name, groups, can_write, is_admin, strftime(created_at, '%Y-%m-%dT%H:%M:%SZ'), "
        "strftime(revoked_at, '%Y-%m-%dT%H:%M:%SZ') FROM api_keys ORDER BY name, created_at"
    ).fetchall()
    return [KeyInfo(*row) for row in rows]


class KeyRing:
    """The service's keys, by hash, read from `api_keys` at start and again after each change
    made through it (storemon keys, when the service holds the database, goes through it)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, token: str) -> None:
        self._con = con
        self._token = token
        self._lock = threading.Lock()
        self._by_hash: dict[str, Principal] = {}
        self.reload()

    def reload(self) -> None:
        with self._con.cursor() as cur:
            ensure_table(cur)
            rows = cur.execute(
                "SELECT key_hash, name, groups, can_write, is_admin FROM api_keys "
                "WHERE revoked_at IS NULL"
            ).fetchall()
        found = {  # an admin key reads every store; any other the stores of its groups alone
            key_hash: Principal(name, None if admin else frozenset(groups or ()), write, admin)
            for key_hash, name, groups, write, admin in rows
        }
        with self._lock:
            self._by_hash = found

    def principal(self, key: str) -> Principal | None:
        """Who holds `key`: the token's holder (admin), a key's, or nobody. The token is
        compared in constant time; a key is found by its SHA-256, so what a lookup's timing
        could tell is of a hash, never of a key."""
        if hmac.compare_digest(key.encode(), self._token.encode()):
            return ADMIN
        with self._lock:
            return self._by_hash.get(digest(key))

    def by_fingerprint(self, name: str, fingerprint: str) -> Principal | None:
        """The current key named `name` whose hash starts with `fingerprint` (a session's)."""
        with self._lock:
            for key_hash, principal in self._by_hash.items():
                if principal.name == name and key_hash[: len(fingerprint)] == fingerprint:
                    return principal  # (the fingerprint comes from a signed cookie)
        return None
