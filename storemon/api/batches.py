"""Batches of data appended as they arrive: POST /polls, /hours, /timezones, /special_hours,
/groups (need the key).

The body is streamed to a temporary file, never held in memory, and refused with 413 beyond
--max-body; a 2xx answer means the batch is committed to the database file.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated

import anyio
from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter

from storemon.api.errors import (
    FORBIDDEN,
    TOO_LARGE,
    UNAUTHORIZED,
    Refused,
    documented,
    error,
)
from storemon.api.shapes import BatchAnswer, Service
from storemon.append import BatchKind
from storemon.errors import KeyReused, StoremonError, is_disk_full

MEDIA = ("text/csv", "application/json", "application/x-ndjson")
IDEMPOTENCY_KEY = "idempotency-key"


async def receive(
    request: Request, service: Service, kind: BatchKind, allow_empty: bool = False
) -> Response[BatchAnswer]:
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in MEDIA:
        raise Refused(
            415,
            "unsupported media type",
            f"send the batch as {', '.join(MEDIA)} (this one is {media or 'untyped'})",
        )
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is not None and not 1 <= len(key) <= 200:
        return error(400, "bad idempotency key", "an Idempotency-Key is 1 to 200 characters")
    with tempfile.TemporaryDirectory(prefix="storemon-batch-") as folder:
        body = Path(folder) / "body"
        with body.open("wb") as out:
            async for chunk in request.stream():
                out.write(chunk)
        try:
            result = await anyio.to_thread.run_sync(
                partial(
                    service.append,
                    kind,
                    body,
                    shown=f"POST /{kind}",
                    idempotency_key=key,
                    media=media,
                    allow_empty=allow_empty,
                )
            )
        except KeyReused as reused:
            return error(422, "idempotency key reused", str(reused))
        except StoremonError as bad:
            if is_disk_full(bad):  # (an SQL file that failed for want of space: 507, not 400)
                raise
            return error(400, "batch refused", str(bad))
    return Response(result, status_code=200 if result.repeated else 201)


def batch_route(kind: BatchKind, what: str) -> HTTPRouteHandler:
    route = post(
        f"/{kind}",
        summary=f"Append a batch of {what}",
        description=f"Needs the key. The body: {what} as text/csv (the columns and spellings "
        "the loader accepts, with a header), application/json (an array of objects) or "
        "application/x-ndjson (one object a line). The batch is all or nothing; its rejected "
        "rows go to rejected_rows with its batch id. An Idempotency-Key names one batch: sent "
        "again with other content, or on another route, it is refused (422). A batch with rows "
        "none of which is usable "
        "is refused (400) unless allow_empty=true. 201: committed; 200: the same batch was "
        "appended before (the same Idempotency-Key and content, or the same content), nothing "
        "changed.",
        operation_id="append" + kind.title().replace("_", ""),
        tags=["data"],
        security=[{"bearer": []}],
        status_code=201,
        responses={
            200: ResponseSpec(data_container=BatchAnswer, description="Appended before."),
            400: documented("The batch cannot be read.", "batch refused", "..."),
            422: documented(
                "The Idempotency-Key was sent before with other content or on another route: "
                "nothing was appended.",
                "idempotency key reused",
                "this Idempotency-Key was sent before with other content (batch ...); ...",
            ),
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            413: TOO_LARGE,
            415: documented(
                "Not CSV, JSON or NDJSON.", "unsupported media type", "send the batch as ..."
            ),
        },
    )

    async def handler(
        request: Request,
        service: Service,
        allow_empty: Annotated[
            bool,
            QueryParameter(
                description="take a batch with rows none of which is usable (refused by default)"
            ),
        ] = False,
    ) -> Response[BatchAnswer]:
        return await receive(request, service, kind, allow_empty)

    handler.__name__ = f"append_{kind}"
    return route(handler)


append_polls = batch_route("polls", "polls (store_id, status, timestamp_utc)")
append_hours = batch_route(
    "hours", "business hours (store_id, dayOfWeek, start_time_local, end_time_local)"
)
append_timezones = batch_route("timezones", "time zones (store_id, timezone_str)")
append_special_hours = batch_route(
    "special_hours",
    "special hours (store_id, date, start_time_local, end_time_local; both times empty: closed)",
)
append_groups = batch_route("groups", "store groups (store_id, group; a row per group of a store)")
