"""What a load and a batch answer: one vocabulary, defined once (msgspec Structs), returned by
storemon/ingest.py and storemon/append.py, given by the API as they are, decoded by the client
(`msgspec.convert`) and printed by the CLI by name. A new field is added here, once."""

from __future__ import annotations

from typing import Literal

import msgspec


def example(line: int, detail: str | None, raw: str | None) -> str:
    """A rejected row as a message names it: `line 2: start "0.00.00" / end ...`,
    `line 3: "### a note": expected 3 fields ...`, or `line 2`."""
    if detail is None:
        return f"line {line}"
    if '"' in detail or raw is None:
        return f"line {line}: {detail}"
    return f"line {line}: {quoted(raw)}: {detail}"


def quoted(text: str, most: int = 60) -> str:
    return '"' + (text if len(text) <= most else text[:most] + "...") + '"'


class RejectCount(msgspec.Struct, frozen=True):
    """The rows of one source rejected for one reason, and the first of them (by line)."""

    source: str
    reason: str
    rows: int
    line: int
    """The first such row's line."""
    detail: str | None
    """What was wrong with it; null: the service never quotes a file on its machine."""
    raw: str | None = None
    """Its text (cut to 200 characters); null likewise."""

    def example(self) -> str:
        return example(self.line, self.detail, self.raw)

    def unquoted(self) -> RejectCount:
        return msgspec.structs.replace(self, detail=None, raw=None)


class FileLoad(msgspec.Struct, frozen=True):
    source: str
    file: str
    data_rows: int
    kept_rows: int
    duplicates: int
    rejected: int


class Finding(msgspec.Struct, frozen=True):
    """A data-quality check of the last load (sql/load/26_data_quality.sql)."""

    finding: str
    source: str
    unit: str
    count: int
    examples: list[str]
    meaning: str


class IngestResult(msgspec.Struct, frozen=True):
    """What a full load did."""

    stores: int
    seconds: float
    files: list[FileLoad]
    rejected: list[RejectCount]
    quality: list[Finding]


class RejectReason(msgspec.Struct, frozen=True):
    reason: str
    rows: int
    line: int
    """The first such row of the batch."""
    detail: str | None
    """What was wrong with it, quoting the value: 'start "0.00.00" / end ...'."""
    raw: str | None
    """Its text (cut to 200 characters)."""

    def example(self) -> str:
        return example(self.line, self.detail, self.raw)


class BatchAnswer(msgspec.Struct, frozen=True):
    """What one appended batch did."""

    batch_id: str
    kind: Literal["polls", "hours", "timezones", "special_hours", "groups"]
    rows_read: int
    kept: int
    """Polls new to the data; hours and zones now in force for the stores the batch names."""
    duplicates: int
    """Usable rows already there, or repeated in the batch: counted once."""
    rejected: int
    rejected_by_reason: list[RejectReason]
    latest_poll: str | None
    repeated: bool
    """The same batch was appended before: nothing changed."""
    events: int = 0
    """Alert events the batch made (stores that went down or came back while open)."""
