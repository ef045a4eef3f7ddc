"""Is the service up, what data it holds, and the limits it keeps."""

from __future__ import annotations

from litestar import Request, get

from storemon import __version__
from storemon.api.shapes import Health, Service
from storemon.service import iso


@get(
    "/health",
    summary="Is the service up, what data is loaded, and the limits it keeps",
    operation_id="health",
    tags=["service"],
    sync_to_thread=False,
)
def health(request: Request, service: Service) -> Health:
    allowed = service.as_of_range()
    return Health(
        status="ok",
        version=__version__,
        data=service.data,
        limits=service.limits,
        as_of_range=[iso(allowed.earliest), iso(allowed.latest)] if allowed else None,
        max_request_bytes=request.app.request_max_body_size,
    )
