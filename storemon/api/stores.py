"""One store's week in a finished report: its row, how often it went down, and the material
behind them (intervals and polls), for a person checking a number or a page drawing it."""

from __future__ import annotations

import re
from typing import Annotated, cast
from urllib.parse import unquote_to_bytes

from litestar import Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from storemon.api.access import groups_of
from storemon.api.errors import INVALID, Refused, documented, error, example
from storemon.api.reports import FAILED, GONE, PENDING, ReportIdParameter, unfinished
from storemon.api.shapes import EXAMPLE_ID, REPORT_ID_PATTERN, Service
from storemon.ingest import STORE_ID_MAX
from storemon.store_week import StoreWeek

# A store's route ends in its id, URL-encoded (its slashes too, as %2F). The route takes the rest
# of the path, so that an id with `/` is found at all; the id itself is read from the raw path
# (store_id_in), since the decoded one has `//` collapsed and a trailing `/` dropped.
StorePath = Parameter(
    description=f"a store_id of the report, URL-encoded (a slash as %2F), 1 to {STORE_ID_MAX} "
    "characters"
)


STORE_PATH = re.compile(rf"^((?:/ui)?/reports/{REPORT_ID_PATTERN.strip('^$')}/stores/).+")


def route_store_paths(app: ASGIApp) -> ASGIApp:
    """A store's route is routed by a stand-in for its store_id (`_`), and the handler reads the
    id from the raw path (store_id_in): decoded, an id may be `/` or end in one, which a router
    reads as another path."""

    async def routed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            matched = STORE_PATH.match(scope["path"])
            if matched:
                scope = cast("HTTPScope", {**scope, "path": matched.group(1) + "_"})
        await app(scope, receive, send)

    return routed


def store_id_in(request: Request, report_id: str) -> str:
    """The store_id a store route names: what follows `/reports/ID/stores/` in the raw path,
    percent-decoded, exactly as the report spells it."""
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    tail = raw.partition(b"?")[0].partition(f"/reports/{report_id}/stores/".encode())[2]
    try:
        store_id = unquote_to_bytes(tail).decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "invalid request", "store_id: not UTF-8 text") from None
    if not 1 <= len(store_id) <= STORE_ID_MAX:
        raise Refused(
            400, "invalid request", f"store_id: 1 to {STORE_ID_MAX} characters (URL-encoded)"
        )
    return store_id


EXAMPLE_STORE = "8419537941919820732"
EXAMPLE = {
    "report_id": EXAMPLE_ID,
    "store_id": EXAMPLE_STORE,
    "as_of": "2023-01-25T18:13:22.479220Z",
    "week_start": "2023-01-18T18:13:22.479220Z",
    "timezone": "America/New_York",
    "timezone_is_default": False,
    "open_all_week": False,
    "report": {
        "uptime_last_hour": 60.0,
        "uptime_last_day": 11.25,
        "uptime_last_week": 80.4,
        "downtime_last_hour": 0.0,
        "downtime_last_day": 0.75,
        "downtime_last_week": 3.6,
    },
    "summary": {
        "outages_last_hour": 0,
        "outages_last_day": 1,
        "outages_last_week": 3,
        "longest_outage_last_day": 0.75,
        "longest_outage_last_week": 2.1,
        "down_now": False,
        "last_outage_started_at": "2023-01-25T14:30:11.000000Z",
    },
    "outages": [
        {
            "started_at": "2023-01-25T14:30:11.000000Z",
            "ended_at": "2023-01-25T15:15:11.000000Z",
            "started_at_local": "2023-01-25 09:30:11-05:00",
            "ended_at_local": "2023-01-25 10:15:11-05:00",
            "down_hours": 0.75,
            "polls": 1,
            "ongoing": False,
            "began_before_week": False,
            "down_us": 2700000000,
            "down_us_last_day": 2700000000,
            "down_us_last_hour": 0,
        }
    ],
    "business_intervals": [
        {
            "opens_at": "2023-01-25T14:00:00.000000Z",
            "closes_at": "2023-01-26T03:00:00.000000Z",
            "opens_at_local": "2023-01-25 09:00:00-05:00",
            "closes_at_local": "2023-01-25 22:00:00-05:00",
        }
    ],
    "polls": [
        {
            "taken_at": "2023-01-25T14:45:02.000000Z",
            "taken_at_local": "2023-01-25 09:45:02-05:00",
            "active": False,
            "evidence": True,
            "stands_from": "2023-01-25T14:30:11.000000Z",
            "stands_to": "2023-01-25T15:15:11.000000Z",
        }
    ],
    "data_changed": False,
}


@get(
    "/reports/{report_id:str}/stores/{store_id:path}",
    summary="One store's week in a finished report, explained",
    description="The store's report row, its outage summary and outages, and the material "
    "behind them for the report's week: its zone, its business intervals (UTC and local) and "
    "its polls with their status, whether each is evidence, and the stretch each stands for. "
    "The material is computed for this store alone, as of the report's instant; "
    "`data_changed` says whether data came in since the report.",
    operation_id="getReportStore",
    tags=["reports"],
    responses={
        200: ResponseSpec(
            data_container=StoreWeek,
            description="The store's week.",
            examples=example("a store", EXAMPLE),
        ),
        202: PENDING,
        400: INVALID,
        404: documented(
            "No such report, or the report has no row for this store.",
            "unknown store",
            f"report {EXAMPLE_ID} has no store 123: stores with a poll up to its instant have one",
        ),
        410: GONE,
        500: FAILED,
    },
    sync_to_thread=True,
)
def get_report_store(
    request: Request,
    service: Service,
    report_id: Annotated[str, ReportIdParameter],
    store_id: Annotated[str, StorePath],  # decoded, `//` collapsed: read again below
) -> Response[StoreWeek]:
    store_id = store_id_in(request, report_id)
    groups = groups_of(request)
    # a store outside the key's groups is one the report does not have (404, not 403: the key
    # does not learn that it exists)
    hidden = groups is not None and not service.sees_store(report_id, store_id, groups)
    week = None if hidden else service.store_week(report_id, store_id)  # only a Complete report
    if week is not None:
        return Response(week)
    answer = unfinished(service.get(report_id), report_id)
    if answer is not None:
        return answer
    return error(
        404,
        "unknown store",
        f"report {report_id} has no store {store_id[:64]}: stores with a poll up to its "
        "instant have one",
    )
