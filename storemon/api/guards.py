"""What every request must be before any handler reads it: for an allowed host, from no
foreign web page, JSON when it has a JSON body, and no query parameter its route does not take
(who may use a route: storemon/api/access.py)."""

from __future__ import annotations

from typing import cast
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from storemon.api.errors import Refused

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def hostname(authority: str) -> str:
    """`example.org:8000` -> `example.org`; `[::1]:8000` -> `::1`."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    return authority.rpartition(":")[0] if authority.count(":") == 1 else authority


def host_guard(allowed: frozenset[str]):
    """Refuse a request whose Host is not an allowed name (DNS rebinding: a page on another
    site that renamed itself to this machine's address), and a write sent by a web page of
    another origin. Ports do not matter; `*` allows every host."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and "*" not in allowed:
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
                host = hostname(headers.get("host", "")).rstrip(".")
                if host not in allowed:
                    raise Refused(
                        400,
                        "host not allowed",
                        f"host {host or '(none)'!r} is not served here; allowed hosts: "
                        f"{', '.join(sorted(allowed))} (storemon serve --allowed-host)",
                    )
                origin = headers.get("origin")
                if cast("HTTPScope", scope)["method"] not in SAFE_METHODS and origin is not None:
                    origin_host = urlsplit(origin).hostname if origin != "null" else None
                    if origin_host not in allowed:
                        raise Refused(
                            403,
                            "cross-origin request refused",
                            f"a page of {origin} may not send this request",
                        )
            await app(scope, receive, send)

        return guarded

    return middleware


async def require_json(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A body must be sent as application/json; a browser's form or text/plain never is."""
    content_type = connection.headers.get("content-type")
    if content_type is None:
        if connection.headers.get("content-length", "0") in ("", "0") and (
            "transfer-encoding" not in connection.headers
        ):
            return  # no body at all
    else:
        media = content_type.partition(";")[0].strip().lower()
        if media == "application/json" or (
            media.startswith("application/") and media.endswith("+json")
        ):
            return
    raise Refused(
        415,
        "unsupported media type",
        f"send the body as application/json (this one is {content_type or 'untyped'})",
    )


async def known_query_only(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """A query parameter the route does not take is refused, not ignored: `allow_emtpy=true`
    would otherwise be read as nothing at all. The names come from the OpenAPI document
    (app.state.query_names, by operation id: storemon/api/openapi.py)."""
    allowed = connection.app.state.query_names.get(getattr(handler, "operation_id", None))
    if allowed is None:
        return
    unknown = sorted(set(connection.query_params.keys()) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) if allowed else "none"
        raise Refused(
            400,
            "unknown query parameter",
            f"this route takes no query parameter {', '.join(repr(n) for n in unknown)} "
            f"(the ones it takes: {takes})",
        )
