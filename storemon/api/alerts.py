"""Alerts for people on call: the events (GET /alerts, oldest first after a `seq`, for a client
that polls with its last one), the stores down now (GET /alerts/down_now), what was delivered to
the targets (GET /alerts/deliveries), and the service's figures for Prometheus (GET /metrics).
A key of some groups reads only their stores' events, board and figures."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, Response, get
from litestar.params import Parameter

from storemon.alerts.reads import MAX_LIMIT, AlertEvent, DownStore
from storemon.api.access import groups_of
from storemon.api.errors import INVALID, UNAUTHORIZED
from storemon.api.shapes import Service
from storemon.metrics import CONTENT_TYPE, owner_text
from storemon.notify.outbox import Delivery


class AlertEvents(msgspec.Struct):
    events: list[AlertEvent]
    next_after: int
    """Ask with `after` = this next time: the last event's seq (or `after` if none)."""


@get(
    "/alerts",
    summary="Alert events after a seq, oldest first",
    description="`down` when a store goes down while open (its last K evidence polls all "
    "inactive), `up` when it comes back. Poll with the last `next_after`; each event's `id` "
    "is stable, for de-duplicating.",
    operation_id="alerts",
    tags=["alerts"],
    responses={400: INVALID, 401: UNAUTHORIZED},
    sync_to_thread=True,
)
def alerts(
    request: Request,
    service: Service,
    after: Annotated[int, Parameter(ge=0, description="the last seq seen (0: from the first)")] = 0,
    limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="at most this many")] = 100,
) -> AlertEvents:
    events, next_after = service.alerts(after, limit, groups_of(request))
    return AlertEvents(events=events, next_after=next_after)


@get(
    "/alerts/down_now",
    summary="The stores down while open now, longest down first",
    operation_id="downNow",
    tags=["alerts"],
    responses={400: INVALID, 401: UNAUTHORIZED},
    sync_to_thread=True,
)
def alerts_down_now(request: Request, service: Service) -> list[DownStore]:
    return service.down_now(groups_of(request))[0]


@get(
    "/alerts/deliveries",
    summary="What was delivered to the alert targets, what is pending, what failed and why",
    description="The latest deliveries, newest event first: per target (named without its "
    "secrets) and event, its status, attempts, last error and next try.",
    operation_id="alertDeliveries",
    tags=["alerts"],
    responses={400: INVALID, 401: UNAUTHORIZED},
    sync_to_thread=True,
)
def alerts_deliveries(
    service: Service,
    limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="at most this many")] = 100,
) -> list[Delivery]:
    return service.deliveries(limit)


@get(
    "/metrics",
    summary="The service's figures in Prometheus' text format",
    description="Stores down now (in all and per group), events by kind, batches and reports "
    "with their durations, reports waiting, deliveries per target, the latest poll and the "
    "data's age. A key of some groups gets its groups' stores down now alone.",
    operation_id="metrics",
    tags=["alerts"],
    media_type=CONTENT_TYPE,
    responses={400: INVALID, 401: UNAUTHORIZED},
    sync_to_thread=True,
)
def metrics(request: Request, service: Service) -> Response[bytes]:
    groups = groups_of(request)
    if groups is None:
        body = service.metrics.text()
    else:
        body = owner_text(service.down_now_counts()[1], groups)
    return Response(body, media_type=CONTENT_TYPE)
