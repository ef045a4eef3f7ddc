"""The deliveries' state, in the database beside the events (its tables:
sql/alerts/05_alert_deliveries_table.sql). Each change is a small transaction of its own, on
these two tables alone: a batch, which writes alert_events, never waits for a delivery."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import msgspec

from storemon.alerts.reads import AlertEvent, event_columns
from storemon.database import has_table, run_all, sql_dir
from storemon.instants import ISO


class Delivery(msgspec.Struct, frozen=True):
    target: str
    seq: int
    id: str
    kind: str
    store_id: str
    status: str
    """pending, delivered or failed."""
    attempts: int
    last_error: str | None
    next_try_at: str | None
    delivered_at: str | None


def outbox_tables(con: duckdb.DuckDBPyConnection) -> None:
    run_all(con, [sql_dir() / "alerts" / "01_alert_tables.sql"])
    run_all(con, [sql_dir() / "alerts" / "05_alert_deliveries_table.sql"])


def _write(con: duckdb.DuckDBPyConnection, sql: str, parameters: list) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(sql, parameters)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def queue(con: duckdb.DuckDBPyConnection, target: str, group: str | None) -> None:
    """Queue, for `target`, the events made since it was last queued (for a target limited to
    a group, that group's); a target seen for the first time starts after the latest event."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO alert_targets SELECT ?, (SELECT coalesce(max(seq), 0) FROM alert_events),"
            " get_current_timestamp() WHERE ? NOT IN (SELECT target FROM alert_targets)",
            [target, target],
        )
        con.execute(
            "INSERT INTO alert_deliveries "
            "SELECT ?, seq, 'pending', 0, NULL, NULL, NULL, NULL FROM alert_events "
            "WHERE seq > (SELECT queued_seq FROM alert_targets WHERE target = ?) "
            "AND (?::VARCHAR IS NULL OR list_contains(groups, ?::VARCHAR))",
            [target, target, group, group],
        )
        con.execute(
            "UPDATE alert_targets SET queued_seq = (SELECT coalesce(max(seq), 0) FROM "
            "alert_events) WHERE target = ?",
            [target],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def pending(
    con: duckdb.DuckDBPyConnection, target: str, limit: int = 100
) -> list[tuple[AlertEvent, int, datetime | None, datetime | None]]:
    """The target's oldest pending events (each with its attempts so far, when it was first
    tried and when it may be tried next), in seq order."""
    rows = con.execute(
        f"SELECT {event_columns('alert_events')}, attempts, epoch_us(first_tried_at), "
        "epoch_us(next_try_at) "
        "FROM alert_deliveries JOIN alert_events USING (seq) "
        "WHERE target = ? AND status = 'pending' ORDER BY seq LIMIT ?",
        [target, limit],
    ).fetchall()
    return [
        (AlertEvent(*event), attempts, _instant(first), _instant(following))
        for *event, attempts, first, following in rows
    ]


def head(
    con: duckdb.DuckDBPyConnection, target: str
) -> tuple[AlertEvent, int, datetime | None, datetime | None] | None:
    """The target's oldest pending event (pending(), first)."""
    found = pending(con, target, 1)
    return found[0] if found else None


def _instant(us: int | None) -> datetime | None:
    return None if us is None else datetime.fromtimestamp(us / 1e6, UTC)


def delivered(con: duckdb.DuckDBPyConnection, target: str, seqs: list[int] | int) -> None:
    """Mark the events delivered (several at once: one transaction for a run of them)."""
    _write(
        con,
        "UPDATE alert_deliveries SET status = 'delivered', attempts = attempts + 1, "
        "first_tried_at = coalesce(first_tried_at, get_current_timestamp()), "
        "delivered_at = get_current_timestamp(), next_try_at = NULL "
        "WHERE target = ? AND list_contains(?::BIGINT[], seq)",
        [target, [seqs] if isinstance(seqs, int) else seqs],
    )


def failed_attempt(
    con: duckdb.DuckDBPyConnection,
    target: str,
    seq: int,
    error: str,
    first_tried: datetime,
    next_try: datetime | None,
) -> None:
    """An attempt that failed: tried again at `next_try`, or (None) given up for good."""
    _write(
        con,
        "UPDATE alert_deliveries SET attempts = attempts + 1, last_error = ?, "
        "first_tried_at = coalesce(first_tried_at, ?::TIMESTAMPTZ), next_try_at = ?, "
        "status = if(?::TIMESTAMPTZ IS NULL, 'failed', 'pending') WHERE target = ? AND seq = ?",
        [error[:500], first_tried, next_try, next_try, target, seq],
    )


def deliveries(con: duckdb.DuckDBPyConnection, limit: int = 100) -> list[Delivery]:
    """The latest deliveries, newest event first."""
    if not has_table(con, "alert_deliveries"):
        return []
    rows = con.execute(
        "SELECT target, seq, id, kind, store_id, status, attempts, last_error, "
        f"strftime(next_try_at AT TIME ZONE 'UTC', '{ISO}'), "
        f"strftime(delivered_at AT TIME ZONE 'UTC', '{ISO}') "
        "FROM alert_deliveries JOIN alert_events USING (seq) "
        "ORDER BY seq DESC, target LIMIT ?",
        [limit],
    ).fetchall()
    return [Delivery(*row) for row in rows]


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Per target, how many deliveries are pending, delivered and failed."""
    if not has_table(con, "alert_deliveries"):
        return {}
    found: dict[str, dict[str, int]] = {}
    for target, status, count in con.execute(
        "SELECT target, status, count(*) FROM alert_deliveries GROUP BY ALL"
    ).fetchall():
        found.setdefault(target, {})[status] = int(count)
    return found


def now() -> datetime:
    return datetime.now(UTC)
