"""One error body for every error of every route, Litestar's own included."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example

from storemon.api.shapes import ErrorBody
from storemon.errors import is_disk_full

log = logging.getLogger("storemon.api")

# Parameters and body fields whose pattern a person should read in words.
EXPLAINED = {
    "as_of": (
        "bad as_of",
        'expected a UTC instant, "YYYY-MM-DD HH:MM:SS" (ISO 8601: "T", a fraction and an offset '
        "are fine), at most 40 characters",
    ),
    "report_id": ("malformed report id", "a report id is 22 characters of A-Z a-z 0-9 _ -"),
    "file_name": (
        "malformed file name",
        "ask for <report_id>.csv or <report_id>.parquet (22 characters of A-Z a-z 0-9 _ -)",
    ),
}


class Refused(HTTPException):
    """A request refused before any handler reads it, with the title its answer gives."""

    def __init__(
        self, status_code: int, title: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail=detail, status_code=status_code, headers=headers)
        self.title = title


def error(
    status_code: int, message: str, detail: str, headers: dict[str, str] | None = None
) -> Response[Any]:
    """The one error body. Typed Any so that a route declared with its answer's shape may
    return it too: each route documents its errors' shapes in its own `responses`."""
    return Response(ErrorBody(message, detail), status_code=status_code, headers=headers)


def handle_http_error(request: Request, exc: HTTPException) -> Response[ErrorBody]:
    """Litestar's own errors (validation, 404, 405, 413, guards) in the documented body."""
    status = exc.status_code
    headers = dict(exc.headers or {})
    if isinstance(exc, ValidationException):
        problems = [p for p in (exc.extra or []) if isinstance(p, dict)]
        for problem in problems:
            field = re.search(r"at `\$\.(\w+)`", str(problem.get("message")))
            for name in (problem.get("key"), field and field.group(1)):
                if name in EXPLAINED:
                    return error(400, *EXPLAINED[name])
            if problem.get("key") == "data" and problem.get("message") == "'data'":
                return error(400, "invalid request", "this route needs a JSON body")
        detail = "; ".join(
            f"{'body' if p.get('key') in (None, 'data') else p['key']}: {p.get('message')}"
            for p in problems
        )
        return error(400, "invalid request", detail or str(exc.detail))
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc.detail)
        return error(status, "internal error", "the service's log says more", headers)
    title = getattr(exc, "title", None) or HTTPStatus(status).phrase.lower()
    return error(status, title, str(exc.detail), headers)


def handle_unexpected(request: Request, exc: Exception) -> Response[ErrorBody]:
    if is_disk_full(exc):  # said as it is; whatever it was doing was rolled back
        log.error("%s %s: no space left on the disk: %s", request.method, request.url.path, exc)
        return error(
            507,
            "no space left",
            "the disk that holds the service's data is full: nothing was changed; free some "
            "space and send it again",
        )
    log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error(500, "internal error", "the service's log says more")


def example(summary: str, value: dict) -> list[Example]:
    return [Example(summary=summary, value=value)]


def documented(description: str, message: str, detail: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=ErrorBody,
        description=description,
        examples=example(message, {"error": message, "detail": detail}),
    )


INVALID = documented(
    "The request is malformed: `detail` names the parameter or field and what is expected.",
    "invalid request",
    "body: Expected `str` of length <= 40 - at `$.as_of`",
)
TOO_LARGE = documented(
    "The body is larger than the service accepts (see /health).",
    "request entity too large",
    "Request Entity Too Large",
)
UNSUPPORTED = documented(
    "The body is not application/json.",
    "unsupported media type",
    "send the body as application/json",
)
UNAUTHORIZED = documented(
    "No key, or one the service does not know (or revoked): send `Authorization: Bearer "
    "<key>` (storemon/api/access.py says what each route needs).",
    "unauthorized",
    "this route needs a key: send Authorization: Bearer <key> ...",
)
FORBIDDEN = documented(
    "The key may not do this (a write needs --write or --admin; a full load, keys and data "
    "quality an admin key), or it was sent from a web page of another site.",
    "forbidden",
    "this route changes data: it needs a key made with --write or --admin (key 'acme' reads only)",
)
