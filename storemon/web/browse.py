"""What the web pages show, read from the service's tables: a finished report as a sorted,
searched, paged table with its totals and distribution, and the data-quality details.

Plain queries over the stored results (report_rows, report_summary_rows,
report_note_stores_rows, rejected_rows, batches); every number in them was made by the SQL in
sql/. Sort columns come from a fixed list, never from the request's text.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from storemon.database import one, scalar
from storemon.instants import ISO
from storemon.visible import STORES_IN

PAGE_SIZE = 50
# column -> what it sorts by (the report's own columns, then the summary's)
SORTS = {
    "store_id": "store_id",
    "uptime_last_hour": "uptime_last_hour",
    "uptime_last_day": "uptime_last_day",
    "uptime_last_week": "uptime_last_week",
    "downtime_last_hour": "downtime_last_hour",
    "downtime_last_day": "downtime_last_day",
    "downtime_last_week": "downtime_last_week",
    "outages_last_week": "outages_last_week",
    "longest_outage_last_week": "longest_outage_last_week",
    "down_now": "down_now",
    "uptime_percent_week": "uptime_percent_week",
}
DEFAULT_SORT = "downtime_last_week"
HISTOGRAM_BINS = 10


@dataclass(frozen=True)
class ReportPage:
    rows: list[dict]
    matched: int
    """Stores that match the search (all of them with no search)."""
    page: int
    pages: int


@dataclass(frozen=True)
class Totals:
    stores: int
    with_downtime: int
    """Stores with any downtime in the week."""
    down_now: int
    outages: int
    downtime_hours: float
    uptime_hours: float
    without_time: int
    """Stores with no evidence or no business time in the week (all zeros)."""
    histogram: list[int]
    """Stores by weekly uptime %, in HISTOGRAM_BINS bins: [0, 10), ..., [90, 100]."""


def _dicts(result: duckdb.DuckDBPyConnection) -> list[dict]:
    names = [column[0] for column in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def report_page(
    cur: duckdb.DuckDBPyConnection,
    report_id: str,
    sort: str = DEFAULT_SORT,
    descending: bool = True,
    search: str = "",
    page: int = 1,
    note: str = "",
    groups: frozenset[str] | None = None,
) -> ReportPage:
    """One page of the report's stores with their outage summary, sorted and searched; with
    `note` (a finding of its notes), only the stores of that note; with `groups`, only their
    stores."""
    order = SORTS.get(sort, SORTS[DEFAULT_SORT])
    direction = "DESC" if descending else "ASC"
    where, params = _seen(report_id, groups)
    noted = (
        "AND (? = '' OR store_id IN (SELECT store_id FROM report_note_stores_rows "
        "WHERE report_id = report_rows.report_id AND finding = ?)) "
    )
    matched = scalar(
        cur,
        f"SELECT count(*) FROM report_rows WHERE report_id = ? AND contains(lower(store_id), ?) "
        f"{noted}{where}",
        [report_id, search.lower(), note, note, *params],
    )
    pages = max(1, -(-matched // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = _dicts(
        cur.execute(
            "SELECT report_rows.* EXCLUDE (report_id), "
            "round(100 * uptime_last_week / nullif(uptime_last_week + downtime_last_week, 0), 1) "
            "AS uptime_percent_week, "
            "coalesce(outages_last_week, 0) AS outages_last_week, "
            "coalesce(longest_outage_last_week, 0) AS longest_outage_last_week, "
            "coalesce(down_now, false) AS down_now "
            "FROM report_rows LEFT JOIN report_summary_rows USING (report_id, store_id) "
            "WHERE report_id = ? AND contains(lower(store_id), ?) "
            f"{noted}{where}"
            f"ORDER BY {order} {direction}, store_id LIMIT ? OFFSET ?",
            [report_id, search.lower(), note, note, *params, PAGE_SIZE, (page - 1) * PAGE_SIZE],
        )
    )
    return ReportPage(rows, matched, page, pages)


def totals(
    cur: duckdb.DuckDBPyConnection, report_id: str, groups: frozenset[str] | None = None
) -> Totals:
    """The report's totals, and its stores by weekly uptime % (of their business time); with
    `groups`, over their stores alone."""
    where, params = _seen(report_id, groups)
    row = one(
        cur,
        "SELECT count(*), count(*) FILTER (downtime_last_week > 0), "
        "coalesce(sum(downtime_last_week), 0)::DOUBLE, coalesce(sum(uptime_last_week), 0)::DOUBLE, "
        "count(*) FILTER (uptime_last_week + downtime_last_week = 0) "
        f"FROM report_rows WHERE report_id = ? {where}",
        [report_id, *params],
    )
    outages, down_now = one(
        cur,
        "SELECT coalesce(sum(outages_last_week), 0), count(*) FILTER (down_now) "
        f"FROM report_summary_rows WHERE report_id = ? {where}",
        [report_id, *params],
    )
    bins = dict(
        cur.execute(
            f"SELECT least(floor(uptime_last_week / (uptime_last_week + downtime_last_week) "
            f"* {HISTOGRAM_BINS}), {HISTOGRAM_BINS - 1})::INTEGER AS bin, count(*) "
            "FROM report_rows WHERE report_id = ? AND uptime_last_week + downtime_last_week > 0 "
            f"{where} GROUP BY bin",
            [report_id, *params],
        ).fetchall()
    )
    return Totals(
        stores=row[0],
        with_downtime=row[1],
        down_now=down_now,
        outages=int(outages),
        downtime_hours=row[2],
        uptime_hours=row[3],
        without_time=row[4],
        histogram=[bins.get(i, 0) for i in range(HISTOGRAM_BINS)],
    )


def rollups(
    cur: duckdb.DuckDBPyConnection, report_id: str, groups: frozenset[str] | None = None
) -> list[dict]:
    """The report's roll-ups (those of `groups` alone, when given), most weekly downtime
    first, with weekly uptime as a percentage."""
    where, params = _groups_in(groups)
    return _dicts(
        cur.execute(
            'SELECT "group", stores, stores_with_evidence, uptime_last_week, '
            "downtime_last_week, outages_last_week, down_now, "
            "round(100 * uptime_ratio_last_week, 2) AS uptime_percent_week "
            f"FROM report_rollups_rows WHERE report_id = ? {where} "
            'ORDER BY downtime_last_week DESC, "group"',
            [report_id, *params],
        )
    )


def report_groups(
    cur: duckdb.DuckDBPyConnection, report_id: str, groups: frozenset[str] | None = None
) -> list[str]:
    """The groups of the report's stores (those of `groups` alone, when given)."""
    where, params = _groups_in(groups)
    return [
        row[0]
        for row in cur.execute(
            'SELECT DISTINCT "group" FROM report_store_groups_rows WHERE report_id = ? '
            f'{where} ORDER BY "group"',
            [report_id, *params],
        ).fetchall()
    ]


def _groups_in(groups: frozenset[str] | None) -> tuple[str, list]:
    """The condition (and its parameter) that keeps the rows of `groups` (None: all)."""
    return ("", []) if groups is None else ('AND list_contains(?, "group") ', [sorted(groups)])


def _seen(report_id: str, groups: frozenset[str] | None) -> tuple[str, list]:
    """The condition (and its parameters) that keeps the stores `groups` see (None: all)."""
    if groups is None:
        return "", []
    return f"AND store_id IN ({STORES_IN}) ", [report_id, sorted(groups)]


def rejected_by_reason(cur: duckdb.DuckDBPyConnection, samples: int = 3) -> list[dict]:
    """Rejected rows by source and reason, with a few samples each (file, line, raw text): the
    first by file and line, kept while reading (arg_min's top N), never a list of them all."""
    try:
        return _dicts(
            cur.execute(
                "SELECT source, reason, count(*) AS rows, "
                + (
                    "arg_min({'file': file, 'line': line, 'raw': raw, 'detail': detail}, "
                    f"(file, line), {int(samples)}) AS samples "
                    if samples > 0
                    else "[] AS samples "
                )
                + "FROM rejected_rows GROUP BY source, reason ORDER BY rows DESC, source, reason"
            )
        )
    except duckdb.CatalogException:  # nothing loaded yet
        return []


def recent_batches(cur: duckdb.DuckDBPyConnection, limit: int = 20) -> list[dict]:
    """The last loads and batches, newest first, one row per (batch, source)."""
    try:
        return _dicts(
            cur.execute(
                f"SELECT batch_id, kind, source, file, strftime(received_at, '{ISO}') AS "
                "received_at, data_rows, kept_rows, duplicates, rejected "
                "FROM batches ORDER BY received_at DESC, source LIMIT ?",
                [limit],
            )
        )
    except duckdb.CatalogException:
        return []
