"""HTTP caching of a finished report's files, which never change: a strong `ETag` named for the
report, the file and the key's groups; `Cache-Control: immutable`; `304 Not Modified` when the
client already holds those bytes (If-None-Match), before any work is done for them.

An answer filtered for a key of some groups is the same for every key of those groups (the
report keeps its stores' groups as of its own data), so its tag names the groups: private to
that client, and varying with the key that asked.
"""

from __future__ import annotations

import hashlib

from litestar import Request, Response

YEAR = 365 * 24 * 3600


def file_tag(report_id: str, name: str, groups: frozenset[str] | None) -> str:
    """The strong ETag of report `report_id`'s file `name` as `groups` see it (None: all)."""
    seen = "all" if groups is None else "\x1f".join(sorted(groups))
    digest = hashlib.sha256(f"{report_id}\x1e{name}\x1e{seen}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def cache_headers(tag: str, groups: frozenset[str] | None) -> dict[str, str]:
    """The caching headers of a finished report's file."""
    scope = "public" if groups is None else "private"
    return {
        "ETag": tag,
        "Cache-Control": f"{scope}, max-age={YEAR}, immutable",
        "Vary": "Accept-Encoding, Authorization, Cookie",
    }


def not_modified(request: Request, tag: str, headers: dict[str, str]) -> Response | None:
    """`304` when the request's If-None-Match names `tag` (or is `*`), else None."""
    asked = request.headers.get("if-none-match")
    if asked is None:
        return None
    tags = {t.strip().removeprefix("W/") for t in asked.split(",")}
    if tag in tags or "*" in tags:
        return Response(content=b"", status_code=304, headers=headers)
    return None


def accepts_gzip(request: Request) -> bool:
    """Whether the client takes a gzip-encoded answer (Accept-Encoding, q > 0)."""
    for coding in request.headers.get("accept-encoding", "").split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip"):
            quality = params.strip().removeprefix("q=").strip() if params else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False
