"""Who a request is, and whether its route lets it in: every route of the app is in ACCESS,
with what it needs, and one guard checks it before any handler runs. A route missing from the
table is refused (the app will not even start: check_routes), so a route added later is closed
until someone says who may use it.

What each level needs (storemon/keys.py says who holds which key):

- `public`: nothing. `/health` then says only that the service is up.
- `read`: the reports and their rows, the pages, triggering a report. With `--reads key`, any
  key (a key of some groups sees only their stores: storemon/visible.py); with `--reads open`,
  nothing (anyone reads every store).
- `quality`: the data-quality findings and rejected rows (raw text of every owner's rows): an
  admin key; with `--reads open`, nothing.
- `write`: batches: a key made with `--write`, or an admin key.
- `admin`: full loads and keys: an admin key (the service's token is one).

A request's key is its `Authorization: Bearer` header, or the session cookie that signing in
set (storemon/web/sessions.py), which counts for the pages and for reads alone: the API's writes
take the header. A key that is unknown or revoked is refused, with
reads open too: it never silently reads as nobody.
"""

from __future__ import annotations

from typing import Literal, cast

from litestar import Litestar
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import HTTPScope

from storemon.api.errors import Refused
from storemon.keys import ADMIN, ANYONE, KeyRing, Principal
from storemon.web.sessions import Sessions

Level = Literal["public", "read", "quality", "write", "admin"]
Reads = Literal["open", "key"]

ACCESS: dict[str, Level] = {
    "POST /trigger_report": "read",
    "GET /get_report": "read",
    "GET /get_report/{report_id}": "read",
    "GET /reports/{file_name}": "read",
    "GET /reports/{report_id}/{part}": "read",
    "GET /reports": "read",
    "GET /reports/{report_id}/stores/{store_id}": "read",
    "GET /health": "public",
    "GET /data_quality": "quality",
    "POST /ingest": "admin",
    "POST /polls": "write",
    "POST /hours": "write",
    "POST /timezones": "write",
    "POST /special_hours": "write",
    "POST /groups": "write",
    "GET /keys": "admin",
    "POST /keys": "admin",
    "DELETE /keys/{name}": "admin",
    "GET /alerts": "read",
    "GET /alerts/down_now": "read",
    "GET /alerts/deliveries": "quality",
    "GET /metrics": "read",
    "GET /ui/alerts": "quality",
    "GET /": "public",
    "GET /ui": "read",
    "GET /ui/data-quality": "quality",
    "GET /ui/reports/{report_id}": "read",
    "POST /ui/reports": "read",
    "GET /ui/reports/{report_id}/stores/{store_id}": "read",
    "GET /ui/reports/{report_id}/rollups": "read",
    "GET /ui/sign-in": "public",
    "POST /ui/sign-in": "public",
    "POST /ui/sign-out": "public",
    "GET /ui/static/{file_path}": "public",
    "GET /schema": "public",
    "GET /schema/swagger": "public",
    "GET /schema/openapi.json": "public",
    "GET /schema/{path}": "public",
}

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="storemon"'}


def route_key(method: str, path_template: str) -> str:
    return f"{'GET' if method == 'HEAD' else method} {path_template}"


def app_routes(app: Litestar) -> set[str]:
    """Every route of the app, as ACCESS names them."""
    return {
        route_key(method, route.path_format)
        for route in app.routes
        for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}
    }


def check_routes(app: Litestar) -> None:
    """Every route of the app is in ACCESS: an app with a route nobody said who may use does
    not start."""
    missing = sorted(app_routes(app) - ACCESS.keys())
    if missing:
        raise RuntimeError(f"routes without an access rule (storemon/api/access.py): {missing}")


def bearer_key(connection: ASGIConnection) -> str | None:
    """The key of a request's `Authorization: Bearer` header."""
    scheme, _, given = connection.headers.get("authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" and given.strip() else None


def principal_of(connection: ASGIConnection) -> Principal | None:
    """Who the request is: a key's holder (by its bearer header, or a page's session), anyone
    (reads open, no key), or nobody."""
    key = bearer_key(connection)
    if key is None:
        sessions: Sessions | None = connection.app.state.sessions
        # a session signs in the pages (their forms carry a CSRF token) and what they read;
        # the API's writes take the bearer header alone
        method = cast("HTTPScope", connection.scope)["method"]
        usable = sessions is not None and (
            method in ("GET", "HEAD") or connection.scope["path"].startswith("/ui/")
        )
        signed_in = sessions.principal(connection) if usable and sessions else None
        if signed_in is not None:
            return signed_in
        return ANYONE if connection.app.state.reads == "open" else None
    ring: KeyRing = connection.app.state.key_ring
    found = ring.principal(key)
    if found is None:
        raise Refused(
            401,
            "unauthorized",
            "this key is not one the service knows (or it was revoked): send a current key",
            headers=CHALLENGE,
        )
    return found


async def access_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """The route's rule (ACCESS) against the request's principal, which handlers then read
    (request.state.principal). (Async, as it reads nothing but memory: a sync guard would wait
    for a worker thread, behind the handlers that read the database.)"""
    scope = cast("HTTPScope", connection.scope)
    level = ACCESS.get(route_key(scope["method"], scope["path_template"]))
    if level is None:
        raise Refused(403, "forbidden", "this route has no access rule")
    principal = principal_of(connection) if level != "public" else _maybe(connection)
    connection.state.principal = principal
    if level == "public":
        return
    if principal is None or (principal is ANYONE and level in ("write", "admin")):
        raise Refused(
            401,
            "unauthorized",
            "this route needs a key: send Authorization: Bearer <key> (storemon keys add "
            "makes one; the service's own token is its admin key), or sign in at /ui/sign-in",
            headers=CHALLENGE,
        )
    allowed = {
        "read": True,
        "quality": is_admin(principal),
        "write": principal.write or principal.admin,
        "admin": principal.admin,
    }[level]
    if not allowed:
        raise Refused(403, "forbidden", FORBIDDEN[level].format(name=principal.name))


def _maybe(connection: ASGIConnection) -> Principal | None:
    """A public route's principal, if its key is good (it may show more to an admin); a bad
    key on a public route is no error."""
    try:
        return principal_of(connection)
    except Refused:
        return None


FORBIDDEN = {
    "quality": "the data-quality findings and rejected rows hold every owner's rows: they are "
    "for admin keys (key {name!r} is not one)",
    "write": "this route changes data: it needs a key made with --write or --admin (key "
    "{name!r} reads only)",
    "admin": "this route needs an admin key (key {name!r} is not one)",
}


def groups_of(connection: ASGIConnection) -> frozenset[str] | None:
    """The groups whose stores the request's key reads (None: every store)."""
    principal = connection.state.principal
    return None if principal is None else principal.groups


def is_admin(principal: Principal | None) -> bool:
    return principal is not None and (principal.admin or principal is ANYONE)


__all__ = ["ACCESS", "ADMIN", "access_guard", "check_routes", "is_admin", "principal_of"]
