"""What a key of some groups sees of a finished report: the rows of its stores, and the roll-ups
of its groups.

A report is computed once for all stores; only the answer is filtered, from the rows the service
keeps by report_id (report_rows, report_outages_rows, ...) and the groups of the report's stores
as the report saw them (report_store_groups_rows, from sql/rollups/01_group_sums.sql), so an
owner's answer agrees with its roll-ups. The files come out as the report's own do (the same
COPY options, the same order), holding fewer rows.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from storemon.backends import KEPT_ROWS
from storemon.database import copy_atomically
from storemon.report import ORDER_BY, OUTPUTS

# The table the service keeps each relation of a run in (backends.KEPT_ROWS, read backwards).
TABLE_OF = {relation: table for table, relation in KEPT_ROWS.items()}
# The stores of a report in a list of groups (parameters: report_id, groups).
STORES_IN = (
    "SELECT store_id FROM report_store_groups_rows WHERE report_id = ? "
    'AND list_contains(?, "group")'
)


def write_visible(
    cur: duckdb.DuckDBPyConnection,
    report_id: str,
    part: str,
    groups: frozenset[str],
    path: Path,
    options: str,
) -> None:
    """Write the part of the report that `groups` see to `path` (COPY `options`)."""
    relation = OUTPUTS[part]
    table, order = TABLE_OF[relation], ORDER_BY[relation]
    wanted = sorted(groups)
    if part == "rollups":
        where, params = 'list_contains(?, "group")', [report_id, wanted]
    else:
        where, params = f"store_id IN ({STORES_IN})", [report_id, report_id, wanted]
    rows = (
        f"(SELECT * EXCLUDE (report_id) FROM {table} WHERE report_id = ? AND {where} "
        f"ORDER BY {order})"
    )
    copy_atomically(cur, rows, path, options, params)


def stores_seen(
    cur: duckdb.DuckDBPyConnection, report_id: str, groups: frozenset[str]
) -> frozenset[str]:
    """The report's stores that `groups` see."""
    rows = cur.execute(f"SELECT DISTINCT store_id FROM ({STORES_IN})", [report_id, sorted(groups)])
    return frozenset(store_id for (store_id,) in rows.fetchall())


def visible_notes(
    cur: duckdb.DuckDBPyConnection, report_id: str, groups: frozenset[str]
) -> list[tuple]:
    """The report's notes over the stores `groups` see: (finding, stores, examples, meaning)."""
    return cur.execute(
        "SELECT notes.finding, count(noted.store_id), "
        "coalesce((list(noted.store_id ORDER BY noted.store_id) "
        "FILTER (WHERE noted.store_id IS NOT NULL))[:5], []), notes.meaning "
        "FROM report_notes_rows AS notes LEFT JOIN (SELECT finding, store_id FROM "
        f"report_note_stores_rows WHERE report_id = ? AND store_id IN ({STORES_IN})) AS noted "
        "USING (finding) WHERE notes.report_id = ? GROUP BY notes.finding, notes.meaning "
        "ORDER BY notes.finding",
        [report_id, report_id, sorted(groups), report_id],
    ).fetchall()
