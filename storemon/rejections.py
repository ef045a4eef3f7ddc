"""What a load or a batch rejected, and why, with one example per reason; and the rule that a
file with rows of which none is usable is refused (sql/README.md, the load).

A file whose every row is rejected (a placeholder, a spreadsheet that turned every time into
`0.00.00`) would otherwise replace the loaded data with nothing, or open every store 24x7: it
is refused, like a file with a header and no rows, unless the caller allows it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import duckdb

from storemon.errors import StoremonError


@dataclass(frozen=True)
class Rejected:
    """The rows of one source rejected for one reason, and the first of them (by line)."""

    source: str  # polls, business_hours, timezones
    reason: str
    rows: int
    line: int
    # That row's detail: what was wrong, quoting the value ('start "0.00.00" ...'). None where
    # the file may not be quoted: the service's callers may not read a file on its machine.
    detail: str | None
    raw: str | None = None  # the row's text (cut), shown where the detail quotes no value

    def example(self) -> str:
        """`line 2: start "0.00.00" / end ...`, `line 3: "### a note": expected 3 fields ...`,
        or `line 2`."""
        if self.detail is None:
            return f"line {self.line}"
        if '"' in self.detail or self.raw is None:
            return f"line {self.line}: {self.detail}"
        return f"line {self.line}: {quoted(self.raw)}: {self.detail}"

    def unquoted(self) -> Rejected:
        return dataclasses.replace(self, detail=None, raw=None)


def quoted(text: str, most: int = 60) -> str:
    return '"' + (text if len(text) <= most else text[:most] + "...") + '"'


def rejected(con: duckdb.DuckDBPyConnection, batch_id: str | None = None) -> list[Rejected]:
    """The rejected rows of the load (rejected_rows as the load made it) or of one batch."""
    where, params = ("WHERE batch_id = ?", [batch_id]) if batch_id else ("", [])
    rows = con.execute(
        "SELECT source, reason, count(*), min(line), arg_min(detail, line), "
        "arg_min(left(raw, 200), line) "
        f"FROM rejected_rows {where} GROUP BY source, reason ORDER BY source, reason",
        params,
    ).fetchall()
    return [Rejected(*row) for row in rows]


def refuse_if_nothing_usable(
    label: str,
    shown: object,
    data_rows: int,
    rejections: list[Rejected],
    *,
    what: str = "nothing was loaded (the previous data stays)",
) -> None:
    """Refuse a file with rows, every one of them rejected: name the file, the count, the main
    reason and one example."""
    count = sum(r.rows for r in rejections)
    if data_rows == 0 or count < data_rows:
        return
    main = max(rejections, key=lambda r: (r.rows, -r.line))
    others = f", and {count - main.rows:,} other rejected rows" if count > main.rows else ""
    raise StoremonError(
        f"{label}: {shown} has {data_rows:,} row{'s' * (data_rows != 1)} and none of them is "
        f"usable: {main.rows:,} x {main.reason} (e.g. {main.example()}){others}; {what}. Fix the "
        "file, or pass --allow-empty (API: allow_empty) to use it anyway"
    )
