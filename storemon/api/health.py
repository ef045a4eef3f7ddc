"""Is the service up, what data it holds, and the limits it keeps."""

from __future__ import annotations

from typing import cast

from litestar import Request, get

from storemon import __version__
from storemon.api.access import is_admin
from storemon.api.shapes import (
    DataQuality,
    FileLoad,
    Finding,
    Health,
    InboxEntry,
    InboxState,
    Service,
)
from storemon.instants import iso


@get(
    "/health",
    summary="Is the service up, what data is loaded, and the limits it keeps",
    operation_id="health",
    tags=["service"],
    sync_to_thread=False,
)
def health(request: Request, service: Service) -> Health:
    if not is_admin(request.state.principal):  # what the data is, is for admin keys
        return Health(status="ok", version=__version__)
    allowed = service.as_of_range()
    return Health(
        status="ok",
        version=__version__,
        data=service.data,
        limits=service.limits,
        as_of_range=[iso(allowed.earliest), iso(allowed.latest)] if allowed else None,
        max_request_bytes=cast(int, request.app.request_max_body_size),
        data_quality_url=request.app.state.link("/data_quality"),
        inbox=inbox_state(request),
    )


def inbox_state(request: Request) -> InboxState | None:
    inbox = request.app.state.inbox
    if inbox is None:
        return None
    return InboxState(
        folder=str(inbox.folder),
        stuck=[InboxEntry(name, why) for name, why in inbox.stuck_files()],
        waiting=[InboxEntry(name, why) for name, why in inbox.waiting_files()],
        ignored=[InboxEntry(name, why) for name, why in inbox.ignored_entries()],
    )


@get(
    "/data_quality",
    summary="What the last load's data can and cannot mean",
    description="The files the last load read (rows kept, duplicate, rejected) and every "
    "data-quality check with what it means for the numbers: stores without hours (24x7) or "
    "zone (America/Chicago), hours and zones of stores without polls, ids a spreadsheet "
    "damaged, polls before the latest week. Why a report's stores got zeros is in that "
    "report's notes.",
    operation_id="dataQuality",
    tags=["service"],
    sync_to_thread=True,
)
def data_quality(service: Service) -> DataQuality:
    files, findings = service.quality()
    return DataQuality(
        files=[FileLoad(*row) for row in files], findings=[Finding(*row) for row in findings]
    )
