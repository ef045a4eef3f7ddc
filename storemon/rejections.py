"""What a load or a batch rejected, and why, with one example per reason; and the rule that a
file with rows of which none is usable is refused (sql/README.md, the load).

A file whose every row is rejected (a placeholder, a spreadsheet that turned every time into
`0.00.00`) would otherwise replace the loaded data with nothing, or open every store 24x7: it
is refused, like a file with a header and no rows, unless the caller allows it.
"""

from __future__ import annotations

import duckdb

from storemon.errors import StoremonError
from storemon.results import RejectCount


def rejected(con: duckdb.DuckDBPyConnection, batch_id: str | None = None) -> list[RejectCount]:
    """The rejected rows of the load (rejected_rows as the load made it) or of one batch."""
    where, params = ("WHERE batch_id = ?", [batch_id]) if batch_id else ("", [])
    rows = con.execute(
        "SELECT source, reason, count(*), min(line), arg_min(detail, line), "
        "arg_min(left(raw, 200), line) "
        f"FROM rejected_rows {where} GROUP BY source, reason ORDER BY source, reason",
        params,
    ).fetchall()
    return [RejectCount(*row) for row in rows]


def refuse_if_nothing_usable(
    label: str,
    shown: object,
    data_rows: int,
    rejections: list[RejectCount],
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
