"""Which finished reports go: beyond `--keep-reports` (complete ones only: a failed run never
pushes one out) or older than `--keep-report-days`, their rows deleted and their run kept as
Removed to answer 410; and how many runs of removed and failed reports are kept to say why.
(The data's own retentions, of polls and of the batch log, follow each batch:
storemon/data_writer.py.)"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import duckdb

from storemon.backends import KEPT_ROWS
from storemon.instants import EPOCH
from storemon.limits import Limits
from storemon.snapshots import write_runs

log = logging.getLogger("storemon.service")


def retire(cur: duckdb.DuckDBPyConnection, limits: Limits) -> list[str]:
    """Inside the caller's transaction: mark finished reports beyond --keep-reports or older
    than --keep-report-days Removed and delete their rows; their run stays, so their id can
    say so. Returns their ids, whose files the caller removes (ReportFiles.remove) once this
    is committed."""
    keep, days = limits.keep_reports, limits.keep_report_days
    if keep is None and days is None:
        return []
    newest = keep if keep is not None else 2**62
    cutoff = datetime.now(UTC) - timedelta(days=days) if days is not None else EPOCH
    # Only complete reports count towards --keep-reports: failed runs never push one out.
    doomed = cur.execute(
        "WITH finished AS (SELECT report_id, finished_at, status = 'Complete' AND "
        "row_number() OVER (PARTITION BY status ORDER BY finished_at DESC, report_id) > ? "
        "AS beyond FROM report_runs WHERE status IN ('Complete', 'Failed')) "
        "SELECT report_id, if(beyond, 'count', 'age') FROM finished "
        "WHERE beyond OR finished_at < ?::TIMESTAMPTZ",
        [newest, cutoff.isoformat()],
    ).fetchall()
    ids = [report_id for report_id, _ in doomed]
    if ids:
        for table in KEPT_ROWS:
            cur.execute(f"DELETE FROM {table} WHERE report_id IN (SELECT unnest(?))", [ids])
        reasons = {
            "count": f"removed to keep only the newest {keep} reports (--keep-reports)",
            "age": f"removed after {days} days (--keep-report-days)",
        }
        for why, reason in reasons.items():
            cur.execute(
                "UPDATE report_runs SET status = 'Removed', removed_at = now(), error = ? "
                "WHERE report_id IN (SELECT unnest(?))",
                [reason, [report_id for report_id, found in doomed if found == why]],
            )
        log.info("retention removed %d finished report(s)", len(ids))
    # The runs of removed reports stay to answer 410, and failed runs (no rows, no files)
    # to say why, each up to a bound of their own.
    tombstones = max(1000, 10 * (keep or 0))
    for status in ("Removed", "Failed"):
        cur.execute(
            "DELETE FROM report_runs WHERE report_id IN (SELECT report_id FROM report_runs "
            "WHERE status = ? ORDER BY coalesce(removed_at, finished_at) DESC, report_id "
            "OFFSET ?)",
            [status, tombstones],
        )
    return ids


def retire_now(con: duckdb.DuckDBPyConnection, limits: Limits) -> list[str]:
    """Retention on its own (at the service's start), in a transaction of its own; returns the
    ids whose files to remove."""
    with con.cursor() as cur:
        cur.execute("BEGIN TRANSACTION")
        doomed = retire(cur, limits)
        cur.execute("COMMIT")
        write_runs(cur)
    return doomed
