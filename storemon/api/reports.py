"""The reports resource: trigger one, poll it, fetch its files, list the recent ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, cast

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, Parameter
from litestar.response import File

from storemon.api.access import groups_of
from storemon.api.caching import accepts_gzip, cache_headers, file_tag, not_modified
from storemon.api.errors import (
    FORBIDDEN,
    INVALID,
    TOO_LARGE,
    UNSUPPORTED,
    documented,
    error,
    example,
)
from storemon.api.guards import require_json
from storemon.api.shapes import (
    EXAMPLE_ID,
    FILE_NAME_PATTERN,
    PART_PATTERN,
    REPORT_ID_PATTERN,
    ReportComplete,
    ReportFailed,
    ReportListItem,
    ReportNote,
    ReportPending,
    Service,
    TriggerRequest,
)
from storemon.errors import BadAsOf, StoremonError
from storemon.report import parse_as_of
from storemon.runs import UNREADY_STATUS, Busy, Run, unready

State = Literal["queued", "computing", "done", "failed"]
STATE = {"Queued": "queued", "Running": "computing", "Complete": "done", "Failed": "failed"}
MEDIA = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
KEPT_BYTES = 64 * 1024  # a key's part of a finished report's file, kept when at most this big

ReportIdParameter = Parameter(
    description="from /trigger_report: 22 characters of A-Z a-z 0-9 _ -",
    pattern=REPORT_ID_PATTERN,
    min_length=22,
    max_length=22,
)

PENDING_EXAMPLE = example("queued or computing", {"report_id": EXAMPLE_ID, "status": "Running"})
NOT_FOUND = documented(
    "No report with this id was triggered here.",
    "unknown report id",
    f"no report {EXAMPLE_ID} was triggered here",
)
GONE = documented(
    "The report was removed by retention (see /health); `detail` says when.",
    "report removed",
    f"report {EXAMPLE_ID} was removed at 2026-11-23T10:00:00.000000Z: removed to keep only "
    "the newest 100 reports (--keep-reports)",
)
FAILED = ResponseSpec(
    data_container=ReportFailed,
    description="The report failed; `detail` says why.",
    examples=example(
        "failed",
        {
            "error": "report failed",
            "detail": "no data loaded yet: run `storemon ingest` first",
            "report_id": EXAMPLE_ID,
            "status": "Failed",
        },
    ),
)
PENDING = ResponseSpec(
    data_container=ReportPending, description="Still queued or computing.", examples=PENDING_EXAMPLE
)
COMPLETE = ResponseSpec(
    data_container=ReportComplete,
    description="Finished: the report CSV (text/csv, X-Report-Status: Complete); with "
    "Accept: application/json, this description of it instead.",
    examples=example(
        "Accept: application/json",
        {
            "report_id": EXAMPLE_ID,
            "status": "Complete",
            "as_of": "2023-01-25T18:13:22.479220Z",
            "stores": 14092,
            "created_at": "2026-11-23T10:00:00.000000Z",
            "finished_at": "2026-11-23T10:00:00.712000Z",
            "csv_url": f"/reports/{EXAMPLE_ID}.csv",
            "parquet_url": f"/reports/{EXAMPLE_ID}.parquet",
            "outages_csv_url": f"/reports/{EXAMPLE_ID}/outages.csv",
            "outages_parquet_url": f"/reports/{EXAMPLE_ID}/outages.parquet",
            "summary_csv_url": f"/reports/{EXAMPLE_ID}/summary.csv",
            "summary_parquet_url": f"/reports/{EXAMPLE_ID}/summary.parquet",
            "rollups_csv_url": f"/reports/{EXAMPLE_ID}/rollups.csv",
            "rollups_parquet_url": f"/reports/{EXAMPLE_ID}/rollups.parquet",
            "store_url": f"/reports/{EXAMPLE_ID}/stores/{{store_id}}",
            "sql_version": "b8447c1a7754",
            "computed_by": None,
            "data_batch_at": "2026-11-23T09:00:00.120000Z",
            "notes": [
                {
                    "finding": "no poll inside business hours",
                    "stores": 2,
                    "examples": ["2.57E+14", "4.11E+18"],
                    "meaning": "zeros in every column: none of these stores' polls up to now "
                    "fell inside their business hours, so nothing says whether they were up "
                    "or down",
                }
            ],
        },
    ),
)
ANSWERS = {200: COMPLETE, 202: PENDING, 400: INVALID, 404: NOT_FOUND, 410: GONE, 500: FAILED}
FILE_ANSWERS = ANSWERS | {
    200: ResponseSpec(data_container=None, description="The file.", media_type="text/csv")
}


def pending(run: Run) -> Response[ReportPending]:
    return Response(ReportPending(run.report_id), status_code=UNREADY_STATUS["pending"])


def unfinished(run: Run | None, report_id: str) -> Response | None:
    """The answer for a report that has no files to give (service.unready), or None."""
    why = unready(run)
    if why == "unknown" or run is None:
        return error(
            UNREADY_STATUS["unknown"],
            "unknown report id",
            f"no report {report_id} was triggered here",
        )
    if why == "removed":
        return error(
            UNREADY_STATUS["removed"],
            "report removed",
            f"report {report_id} was removed at {run.removed_at}: {run.error}",
        )
    if why == "failed":
        return Response(
            ReportFailed("report failed", run.error or "unknown error", run.report_id, "Failed"),
            status_code=UNREADY_STATUS["failed"],
        )
    if why == "pending":
        return pending(run)
    return None


class Reports(Controller):
    tags: Sequence[str] | None = ("reports",)

    @post(
        "/trigger_report",
        status_code=202,
        summary="Start a report",
        description="Answers at once with the new report's id; the report computes in the "
        'background. Optional JSON body: {"as_of": "YYYY-MM-DD HH:MM:SS"} (UTC), from the first '
        "poll to the latest poll + 7 days. A report asked for the same data and instant as one "
        "queued, running or finished shares its computation (its own id, the same bytes).",
        operation_id="triggerReport",
        guards=[require_json],
        responses={
            202: ResponseSpec(
                data_container=ReportPending, description="Accepted.", examples=PENDING_EXAMPLE
            ),
            400: documented(
                "Bad as_of, or a malformed body.",
                "bad as_of",
                "as_of 2100-01-01 00:00:00+00 is outside the loaded polls: choose an instant "
                "from 2023-01-18 00:00:00+00 to 2023-02-01 00:00:00+00 (UTC)",
            ),
            403: FORBIDDEN,
            413: TOO_LARGE,
            415: UNSUPPORTED,
            503: documented(
                "Too many reports are waiting (see /health): try again later.",
                "busy",
                "100 reports are already waiting to be computed (the limit, --max-waiting): "
                "try again when they are done",
            ),
        },
        sync_to_thread=True,
    )
    def trigger_report(
        self, service: Service, data: JSONBody[TriggerRequest | None] = None
    ) -> Response[ReportPending]:
        as_of = None
        if data is not None and data.as_of is not None:
            try:
                as_of = parse_as_of(data.as_of)
            except StoremonError as bad:
                return error(400, "bad as_of", str(bad))
        try:
            report_id = service.trigger(as_of)
        except BadAsOf as bad:
            return error(400, "bad as_of", str(bad))
        except Busy as busy:
            return error(503, "busy", str(busy), headers={"Retry-After": "5"})
        return Response(ReportPending(report_id), status_code=202)

    @get(
        "/get_report",
        summary="Poll a report (id as a query parameter)",
        operation_id="getReport",
        responses=ANSWERS,
        sync_to_thread=True,
    )
    def get_report(
        self,
        request: Request,
        service: Service,
        report_id: Annotated[str, ReportIdParameter],
    ) -> Response:
        return self._answer(request, service, report_id)

    @get(
        "/get_report/{report_id:str}",
        summary="Poll a report (id in the path)",
        operation_id="getReportByPath",
        responses=ANSWERS,
        sync_to_thread=True,
    )
    def get_report_by_path(
        self,
        request: Request,
        service: Service,
        report_id: Annotated[str, ReportIdParameter],
    ) -> Response:
        return self._answer(request, service, report_id)

    @staticmethod
    def _answer(request: Request, service: Service, report_id: str) -> Response:
        run = service.get(report_id)
        answer = unfinished(run, report_id)
        if answer is not None:
            return answer
        assert run is not None  # (unfinished() answers for a missing run)
        groups = groups_of(request)
        wanted = request.accept.best_match(["text/csv", MediaType.JSON], default="text/csv")
        if wanted == MediaType.JSON:
            link = request.app.state.link
            return Response(
                ReportComplete(
                    report_id=run.report_id,
                    status="Complete",
                    as_of=run.as_of or "",
                    stores=(run.stores or 0)
                    if groups is None
                    else service.visible_stores(run.report_id, groups),
                    created_at=run.created_at,
                    finished_at=run.finished_at or "",
                    csv_url=link(f"/reports/{run.report_id}.csv"),
                    parquet_url=link(f"/reports/{run.report_id}.parquet"),
                    outages_csv_url=link(f"/reports/{run.report_id}/outages.csv"),
                    outages_parquet_url=link(f"/reports/{run.report_id}/outages.parquet"),
                    summary_csv_url=link(f"/reports/{run.report_id}/summary.csv"),
                    summary_parquet_url=link(f"/reports/{run.report_id}/summary.parquet"),
                    rollups_csv_url=link(f"/reports/{run.report_id}/rollups.csv"),
                    rollups_parquet_url=link(f"/reports/{run.report_id}/rollups.parquet"),
                    store_url=link(f"/reports/{run.report_id}/stores/") + "{store_id}",
                    sql_version=run.sql_version or "",
                    computed_by=run.computed_by,
                    data_batch_at=run.data_batch_at,
                    notes=[ReportNote(*note) for note in service.notes(run.report_id, groups)],
                )
            )
        return report_file(request, service, run.report_id, "csv", groups=groups)

    @get(
        "/reports/{file_name:str}",
        summary="Download a finished report as .csv or .parquet",
        operation_id="getReportFile",
        responses=FILE_ANSWERS,
        sync_to_thread=True,
    )
    def get_report_file(
        self,
        request: Request,
        service: Service,
        file_name: Annotated[
            str,
            Parameter(
                description="<report_id>.csv or <report_id>.parquet",
                pattern=FILE_NAME_PATTERN,
                max_length=30,
            ),
        ],
    ) -> Response:
        report_id, _, suffix = file_name.rpartition(".")
        answer = unfinished(service.get(report_id), report_id)
        if answer is not None:
            return answer
        return report_file(request, service, report_id, suffix, groups=groups_of(request))

    @get(
        "/reports/{report_id:str}/{part:str}",
        summary="Download a finished report's outages, outage summary or roll-ups as .csv or "
        ".parquet",
        description="`outages`: one row per outage with down time in the report's week (when it "
        "started and ended, in UTC and local time, its down time, polls, whether it is ongoing "
        "or began before the week). `summary`: per store, how many outages in the last hour, "
        "day and week, the longest, whether it is down now. `rollups`: per group (owner, brand, "
        "region, ...) with at least one of the report's stores, its stores, stores with "
        "evidence, uptime and downtime per window summed exactly then rounded, outages per "
        "window, stores down now and the uptime ratio per window. Beside the report, never in "
        "it.",
        operation_id="getReportPart",
        responses=FILE_ANSWERS,
        sync_to_thread=True,
    )
    def get_report_part(
        self,
        request: Request,
        service: Service,
        report_id: Annotated[str, ReportIdParameter],
        part: Annotated[
            str,
            Parameter(
                description="outages.csv, outages.parquet, summary.csv, summary.parquet, "
                "rollups.csv or rollups.parquet",
                pattern=PART_PATTERN,
                max_length=15,
            ),
        ],
    ) -> Response:
        answer = unfinished(service.get(report_id), report_id)
        name, _, suffix = part.partition(".")
        if answer is not None:
            return answer
        return report_file(request, service, report_id, suffix, name, groups_of(request))

    @get(
        "/reports",
        summary="Recent reports, newest first (removed ones are left out)",
        operation_id="listReports",
        responses={400: INVALID},
        sync_to_thread=True,
    )
    def list_reports(
        self, service: Service, limit: Annotated[int, Parameter(ge=1, le=1000)] = 50
    ) -> list[ReportListItem]:
        return [
            ReportListItem(
                **msgspec.structs.asdict(run)
                | {"status": "Running" if run.status == "Queued" else run.status},
                state=cast(State, STATE[run.status]),
            )
            for run in service.recent(limit)
        ]


def report_file(
    request: Request,
    service: Service,
    report_id: str,
    suffix: str,
    part: str = "",
    groups: frozenset[str] | None = None,
) -> Response:
    """A finished report's file: the report itself, or (`part`) its outages, summary or
    roll-ups; for a key of some groups, only their stores' rows (their groups' roll-ups).
    Cached by clients for good (storemon/api/caching.py); the whole CSV gzip-encoded for a
    client that takes it, compressed once."""
    dotted = f".{part}" if part else ""
    filename = f"storemon-report-{report_id}{dotted}.{suffix}"
    tag = file_tag(report_id, f"{dotted}.{suffix}", groups)
    headers = {"X-Report-Status": "Complete", **cache_headers(tag, groups)}
    unchanged = not_modified(request, tag, headers)
    if unchanged is not None:
        return unchanged
    if groups is not None:

        def visible() -> bytes:
            path = service.visible_file(report_id, part, f".{suffix}", groups)
            try:
                return path.read_bytes()
            finally:
                path.unlink(missing_ok=True)

        content = service.finished.get(
            report_id, ("file", part, suffix, groups), visible, lambda made: len(made) <= KEPT_BYTES
        )
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return Response(content, media_type=MEDIA[suffix], headers=headers)
    path = service.file(report_id, f"{dotted}.{suffix}")
    if not path.exists():
        raise HTTPException(status_code=500, detail=f"{path} is missing")
    if suffix == "csv" and accepts_gzip(request):
        path = service.files.gzipped(path)
        headers["Content-Encoding"] = "gzip"
    held = service.files.content(path)
    if held is None:  # too large to hold: streamed
        return File(path, filename=filename, media_type=MEDIA[suffix], headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(held, media_type=MEDIA[suffix], headers=headers)
