"""Writes of data: loading new files (and, later, appending batches). Every route here needs
the key."""

from __future__ import annotations

from pathlib import Path

from litestar import Response, post
from litestar.params import JSONBody

from storemon.api.errors import (
    FORBIDDEN,
    TOO_LARGE,
    UNAUTHORIZED,
    UNSUPPORTED,
    documented,
    error,
)
from storemon.api.guards import require_json
from storemon.api.shapes import IngestRequest, IngestResult, Service
from storemon.errors import StoremonError


@post(
    "/ingest",
    summary="Load new CSV files (paths on the service's machine); used by `storemon ingest`",
    description="Needs the key (Authorization: Bearer <token>). Replaces the loaded data in one "
    "transaction; reports already running keep the data they started with. Errors name the "
    "file and the missing column, never the file's content.",
    operation_id="ingest",
    tags=["service"],
    status_code=200,
    guards=[require_json],
    security=[{"bearer": []}],
    responses={
        400: documented(
            "A file is missing or wrong, or the body is malformed.",
            "load failed",
            "polls (store_status.csv): /srv/polls.csv has no column 'timestamp_utc'",
        ),
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        413: TOO_LARGE,
        415: UNSUPPORTED,
    },
    sync_to_thread=True,
)
def ingest_files(service: Service, data: JSONBody[IngestRequest]) -> Response[IngestResult]:
    try:
        result = service.load(
            Path(data.status),
            Path(data.hours),
            Path(data.timezones),
            quote_files=False,
            allow_empty=data.allow_empty,
            special_hours=Path(data.special_hours) if data.special_hours else None,
            groups=Path(data.groups) if data.groups else None,
        )
    except StoremonError as bad:
        return error(400, "load failed", str(bad))
    return Response(result)
