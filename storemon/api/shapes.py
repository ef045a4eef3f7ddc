"""The API's request and response bodies (msgspec Structs: validated, and documented by
Litestar's OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar.di import NamedDependency
from msgspec import UNSET, UnsetType

from storemon.data_writer import DataInfo
from storemon.limits import Limits
from storemon.report import AS_OF_MAX_LENGTH, AS_OF_PATTERN
from storemon.results import (  # noqa: F401  (the API's bodies, defined once)
    BatchAnswer,
    FileLoad,
    Finding,
    IngestResult,
    RejectCount,
    RejectReason,
)
from storemon.runs import Run
from storemon.service import ReportService

Service = NamedDependency[ReportService]
"""The report service, provided to every handler by the app."""

REPORT_ID_PATTERN = r"^[A-Za-z0-9_-]{22}$"
FILE_NAME_PATTERN = r"^[A-Za-z0-9_-]{22}\.(csv|parquet)$"
PART_PATTERN = r"^(outages|summary|rollups)\.(csv|parquet)$"
EXAMPLE_ID = "pR3x9qJd0kV2mW7tYb4s1Q"
MAX_PATH = 4096

ReportId = Annotated[
    str,
    msgspec.Meta(
        pattern=REPORT_ID_PATTERN,
        min_length=22,
        max_length=22,
        description="22 characters of A-Z a-z 0-9 _ - (from /trigger_report)",
        examples=[EXAMPLE_ID],
    ),
]
AsOf = Annotated[
    str,
    msgspec.Meta(
        pattern=AS_OF_PATTERN,
        max_length=AS_OF_MAX_LENGTH,
        description="A UTC instant, 'YYYY-MM-DD HH:MM:SS' (ISO 8601: 'T', a fraction and an "
        "offset are fine), from the first poll to the latest poll + 7 days",
        examples=["2023-01-25 12:00:00"],
    ),
]
FilePath = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PATH)]


class ErrorBody(msgspec.Struct):
    """Every error of every route: what went wrong, and what would be right."""

    error: str
    detail: str


class TriggerRequest(msgspec.Struct, forbid_unknown_fields=True):
    as_of: AsOf | None = None
    """Report as of this UTC instant (default: the latest poll)."""


class ReportPending(msgspec.Struct):
    report_id: str
    status: Literal["Running"] = "Running"


class ReportNote(msgspec.Struct):
    """Why some stores' numbers may not be what a reader expects (e.g. zeros)."""

    finding: str
    stores: int
    examples: list[str]
    meaning: str


class ReportComplete(msgspec.Struct):
    report_id: str
    status: Literal["Complete"]
    as_of: str
    stores: int
    created_at: str
    finished_at: str
    csv_url: str
    parquet_url: str
    outages_csv_url: str
    """Its outages, one row each (sql/report/09_store_outages.sql), beside the report."""
    outages_parquet_url: str
    summary_csv_url: str
    """How often each store went down (sql/report/10_store_outage_summary.sql)."""
    summary_parquet_url: str
    rollups_csv_url: str
    """Its roll-ups, one row per group (sql/rollups/02_group_rollups.sql)."""
    rollups_parquet_url: str
    store_url: str
    """One store's week, explained: replace {store_id}."""
    sql_version: str
    computed_by: str | None
    """The report whose computation this one shared (null: computed for itself)."""
    data_batch_at: str | None
    """When the last batch in the data it read came in: how fresh it was."""
    notes: list[ReportNote]
    """Every finding of sql/report/08_report_notes.sql, with 0 stores when there is none."""


class ReportFailed(ErrorBody):
    """A failed report: `detail` says why."""

    report_id: str
    status: Literal["Failed"]


class ReportListItem(Run, frozen=True):
    """A row of report_runs; `status` as /get_report says it, `state` in detail."""

    state: Literal["queued", "computing", "done", "failed"]


class InboxEntry(msgspec.Struct):
    name: str
    why: str


class InboxState(msgspec.Struct):
    """The drop folder (serve --inbox): what it has not taken, and why."""

    folder: str
    stuck: list[InboxEntry]
    """Entries it cannot move out (failed/ not a folder, a name too long), skipped while there."""
    waiting: list[InboxEntry]
    """Entries left for a later look: a temporary name, a file still being written."""
    ignored: list[InboxEntry]
    """Folders other than done/ and failed/: never taken."""


class Health(msgspec.Struct):
    """Up, and, to an admin key (or anyone, with reads open), what is loaded and the limits.
    To anyone else only `status` and `version`: the rest is left out."""

    status: Literal["ok"]
    version: str
    data: DataInfo | UnsetType | None = UNSET
    limits: Limits | UnsetType = UNSET
    as_of_range: list[str] | UnsetType | None = UNSET
    """[earliest, latest] instant a report may be asked for (null: no data loaded)."""
    max_request_bytes: int | UnsetType = UNSET
    """The largest JSON request body accepted (413 beyond)."""
    data_quality_url: str | UnsetType = UNSET
    """What the last load's data can and cannot mean."""
    inbox: InboxState | UnsetType | None = UNSET
    """The drop folder, when the service watches one (null: none)."""


class IngestRequest(msgspec.Struct, forbid_unknown_fields=True):
    status: FilePath
    hours: FilePath
    timezones: FilePath
    special_hours: FilePath | None = None
    """Special hours (store_id, date, start_time_local, end_time_local), optional: without it
    the data has none."""
    groups: FilePath | None = None
    """Store groups (store_id, group), optional: without it the data has none."""
    allow_empty: bool = False
    """Load a file that has a header and no rows (refused by default: it would replace the
    loaded data with nothing). `storemon ingest --allow-empty`."""


class DataQuality(msgspec.Struct):
    files: list[FileLoad]
    """What the last load read, kept and rejected, per file (empty: nothing loaded)."""
    findings: list[Finding]
    """Every check, with 0 when it found nothing."""
