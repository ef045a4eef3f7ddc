"""The HTTP API (Litestar): trigger a report, poll it, fetch it; health; hand-over of loads."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import msgspec
from litestar import Controller, Litestar, Request, Response, get, post
from litestar.di import Provide
from litestar.enums import MediaType
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Parameter
from litestar.response import File

from storemon import __version__
from storemon.errors import StoremonError
from storemon.report import parse_as_of
from storemon.service import DataInfo, ReportService, Run

REPORT_ID = re.compile(r"[A-Za-z0-9_-]{22}")
EXAMPLE_ID = "pR3x9qJd0kV2mW7tYb4s1Q"


# --- shapes ------------------------------------------------------------------------------


class TriggerRequest(msgspec.Struct, forbid_unknown_fields=True):
    as_of: str | None = None
    """Report as of this UTC instant, "YYYY-MM-DD HH:MM:SS" (default: the latest poll)."""


class ReportPending(msgspec.Struct):
    report_id: str
    status: Literal["Running"] = "Running"


class ReportComplete(msgspec.Struct):
    report_id: str
    status: Literal["Complete"]
    as_of: str
    stores: int
    created_at: str
    finished_at: str
    csv_url: str
    parquet_url: str
    sql_version: str


class ReportFailed(msgspec.Struct):
    report_id: str
    status: Literal["Failed"]
    error: str


class ErrorBody(msgspec.Struct):
    error: str
    detail: str


class ReportListItem(Run, frozen=True):
    """A row of report_runs; `status` as /get_report says it, `state` in detail."""

    state: Literal["queued", "computing", "done", "failed"]


class Health(msgspec.Struct):
    status: Literal["ok"]
    version: str
    data: DataInfo | None


class IngestRequest(msgspec.Struct, forbid_unknown_fields=True):
    status: str
    hours: str
    timezones: str


class FileLoad(msgspec.Struct):
    source: str
    file: str
    data_rows: int
    kept_rows: int
    duplicates: int
    rejected: int


class RejectCount(msgspec.Struct):
    source: str
    reason: str
    rows: int


class IngestResult(msgspec.Struct):
    stores: int
    seconds: float
    files: list[FileLoad]
    rejected: list[RejectCount]


STATE = {"Queued": "queued", "Running": "computing", "Complete": "done", "Failed": "failed"}


def error(status_code: int, message: str, detail: str) -> Response[ErrorBody]:
    return Response(ErrorBody(message, detail), status_code=status_code)


def pending(run: Run) -> Response[ReportPending]:
    return Response(ReportPending(run.report_id), status_code=202)


def failed(run: Run) -> Response[ReportFailed]:
    return Response(
        ReportFailed(run.report_id, "Failed", run.error or "unknown error"), status_code=500
    )


def lookup(service: ReportService, report_id: str) -> Run | Response[ErrorBody]:
    if not REPORT_ID.fullmatch(report_id):
        return error(400, "malformed report id", "a report id is 22 characters of A-Z a-z 0-9 _ -")
    run = service.get(report_id)
    if run is None:
        return error(404, "unknown report id", f"no report {report_id} was triggered here")
    return run


# --- routes ------------------------------------------------------------------------------


def example(summary: str, value: dict) -> list[Example]:
    return [Example(summary=summary, value=value)]


PENDING_EXAMPLE = example("queued or computing", {"report_id": EXAMPLE_ID, "status": "Running"})
RESPONSES = {
    200: ResponseSpec(
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
                "csv_url": f"http://127.0.0.1:8000/reports/{EXAMPLE_ID}.csv",
                "parquet_url": f"http://127.0.0.1:8000/reports/{EXAMPLE_ID}.parquet",
                "sql_version": "b8447c1a7754",
            },
        ),
    ),
    202: ResponseSpec(
        data_container=ReportPending,
        description="Still queued or computing.",
        examples=PENDING_EXAMPLE,
    ),
    400: ResponseSpec(
        data_container=ErrorBody,
        description="Malformed report id.",
        examples=example(
            "malformed",
            {
                "error": "malformed report id",
                "detail": "a report id is 22 characters of A-Z a-z 0-9 _ -",
            },
        ),
    ),
    404: ResponseSpec(
        data_container=ErrorBody,
        description="Unknown report id.",
        examples=example(
            "unknown",
            {"error": "unknown report id", "detail": f"no report {EXAMPLE_ID} was triggered here"},
        ),
    ),
    500: ResponseSpec(
        data_container=ReportFailed,
        description="The report failed; `error` says why.",
        examples=example(
            "failed",
            {
                "report_id": EXAMPLE_ID,
                "status": "Failed",
                "error": "no data loaded yet: run `storemon ingest` first",
            },
        ),
    ),
}


class Reports(Controller):
    tags: ClassVar[list[str]] = ["reports"]

    @post(
        "/trigger_report",
        status_code=202,
        summary="Start a report",
        description="Answers at once with the new report's id; the report computes in the "
        'background. Optional JSON body: {"as_of": "YYYY-MM-DD HH:MM:SS"} (UTC).',
        operation_id="triggerReport",
        responses={
            202: ResponseSpec(
                data_container=ReportPending, description="Accepted.", examples=PENDING_EXAMPLE
            ),
            400: ResponseSpec(data_container=ErrorBody, description="Bad as_of."),
        },
        sync_to_thread=True,
    )
    def trigger_report(
        self, service: ReportService, data: TriggerRequest | None = None
    ) -> Response[ReportPending] | Response[ErrorBody]:
        try:
            as_of = parse_as_of(data.as_of) if data and data.as_of else None
        except StoremonError as bad:
            return error(400, "bad as_of", str(bad))
        return Response(ReportPending(service.trigger(as_of)), status_code=202)

    @get(
        "/get_report",
        summary="Poll a report (id as a query parameter)",
        operation_id="getReport",
        responses=RESPONSES,
        sync_to_thread=True,
    )
    def get_report(
        self,
        request: Request,
        service: ReportService,
        report_id: Annotated[
            str, Parameter(description="from /trigger_report", examples=[Example(value=EXAMPLE_ID)])
        ],
    ) -> Response:
        return self._answer(request, service, report_id)

    @get(
        "/get_report/{report_id:str}",
        summary="Poll a report (id in the path)",
        operation_id="getReportByPath",
        responses=RESPONSES,
        sync_to_thread=True,
    )
    def get_report_by_path(
        self, request: Request, service: ReportService, report_id: str
    ) -> Response:
        return self._answer(request, service, report_id)

    @staticmethod
    def _answer(request: Request, service: ReportService, report_id: str) -> Response:
        run = lookup(service, report_id)
        if isinstance(run, Response):
            return run
        if run.status in ("Queued", "Running"):
            return pending(run)
        if run.status == "Failed":
            return failed(run)
        wanted = request.accept.best_match(["text/csv", MediaType.JSON], default="text/csv")
        if wanted == MediaType.JSON:
            return Response(
                ReportComplete(
                    report_id=run.report_id,
                    status="Complete",
                    as_of=run.as_of or "",
                    stores=run.stores or 0,
                    created_at=run.created_at,
                    finished_at=run.finished_at or "",
                    csv_url=str(request.url_for("reportFile", file_name=f"{run.report_id}.csv")),
                    parquet_url=str(
                        request.url_for("reportFile", file_name=f"{run.report_id}.parquet")
                    ),
                    sql_version=run.sql_version or "",
                )
            )
        return report_file(service, run.report_id, ".csv")

    @get(
        "/reports/{file_name:str}",
        name="reportFile",
        summary="Download a finished report as .csv or .parquet",
        operation_id="getReportFile",
        responses={
            200: ResponseSpec(data_container=None, description="The file.", media_type="text/csv"),
            202: ResponseSpec(data_container=ReportPending, description="Not finished yet."),
            400: ResponseSpec(data_container=ErrorBody, description="Malformed name."),
            404: ResponseSpec(data_container=ErrorBody, description="Unknown report."),
            500: ResponseSpec(data_container=ReportFailed, description="The report failed."),
        },
        sync_to_thread=True,
    )
    def get_report_file(self, service: ReportService, file_name: str) -> Response:
        report_id, dot, suffix = file_name.rpartition(".")
        if not dot or suffix not in ("csv", "parquet"):
            return error(
                400, "malformed file name", "ask for <report_id>.csv or <report_id>.parquet"
            )
        run = lookup(service, report_id)
        if isinstance(run, Response):
            return run
        if run.status == "Failed":
            return failed(run)
        if run.status != "Complete":
            return pending(run)
        return report_file(service, report_id, f".{suffix}")

    @get(
        "/reports",
        summary="Recent reports, newest first",
        operation_id="listReports",
        sync_to_thread=True,
    )
    def list_reports(
        self, service: ReportService, limit: Annotated[int, Parameter(ge=1, le=1000)] = 50
    ) -> list[ReportListItem]:
        return [
            ReportListItem(
                **msgspec.structs.asdict(run)
                | {"status": "Running" if run.status == "Queued" else run.status},
                state=STATE[run.status],
            )
            for run in service.recent(limit)
        ]


def report_file(service: ReportService, report_id: str, suffix: str) -> Response:
    path = service.file(report_id, suffix)
    if not path.exists():
        return error(500, "report file missing", f"{path.name} is gone from {path.parent}")
    media = "text/csv" if suffix == ".csv" else "application/vnd.apache.parquet"
    return File(
        path,
        filename=f"storemon-report-{report_id}{suffix}",
        media_type=media,
        headers={"X-Report-Status": "Complete"},
    )


@get(
    "/health",
    summary="Is the service up, and what data is loaded",
    operation_id="health",
    tags=["service"],
    sync_to_thread=False,
)
def health(service: ReportService) -> Health:
    return Health("ok", __version__, service.data)


@post(
    "/ingest",
    summary="Load new CSV files (paths on this machine); used by `storemon ingest`",
    description="Only from this machine (loopback clients). Replaces the loaded data in one "
    "transaction; reports already running keep the data they started with.",
    operation_id="ingest",
    tags=["service"],
    status_code=200,
    responses={
        400: ResponseSpec(data_container=ErrorBody, description="A file is missing or wrong."),
        403: ResponseSpec(data_container=ErrorBody, description="Not from this machine."),
    },
    sync_to_thread=True,
)
def ingest_files(request: Request, service: ReportService, data: IngestRequest) -> Response:
    client = request.client.host if request.client else ""
    if client not in ("127.0.0.1", "::1", "localhost"):
        return error(403, "forbidden", "loads are accepted only from this machine")
    try:
        result = service.load(Path(data.status), Path(data.hours), Path(data.timezones))
    except StoremonError as bad:
        return error(400, "load failed", str(bad))
    return Response(
        IngestResult(
            stores=result.stores,
            seconds=result.seconds,
            files=[FileLoad(*row) for row in result.summary],
            rejected=[RejectCount(*row) for row in result.reasons],
        )
    )


def create_app(db: Path, workers: int = 2, url: str | None = None) -> Litestar:
    state: dict[str, ReportService] = {}

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        state["service"] = ReportService(db, workers=workers, url=url)
        try:
            yield
        finally:
            state.pop("service").close()

    def provide_service() -> ReportService:
        return state["service"]

    return Litestar(
        route_handlers=[Reports, health, ingest_files],
        lifespan=[lifespan],
        dependencies={"service": Provide(provide_service, sync_to_thread=False)},
        openapi_config=OpenAPIConfig(
            title="storemon",
            version=__version__,
            description="Uptime and downtime of stores during business hours. Trigger a "
            "report, poll it until it is Complete, then download the CSV or Parquet file.",
        ),
    )
