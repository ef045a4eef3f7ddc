"""What the service answers about alerts: the events after a `seq` (oldest first, for a client
that polls with its last seq), the stores down now (the overview's board), a store's events.

A key of some groups reads only their stores: an event by the groups it was made with, the
board by the stores' groups now.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import msgspec

from storemon.database import has_table
from storemon.instants import ISO
from storemon.zones import zone_of

MAX_LIMIT = 1000


class AlertEvent(msgspec.Struct, frozen=True):
    seq: int
    id: str
    kind: str
    store_id: str
    batch_id: str
    at: str
    started_at: str
    polls: int
    down_hours: float | None
    timezone: str
    at_local: str
    started_local: str
    groups: list[str]
    created_at: str


class DownStore(msgspec.Struct, frozen=True):
    store_id: str
    timezone: str
    since: str
    """The first instant of the outage's down time (UTC)."""
    since_local: str
    """The same in the store's zone, to the second: '2023-01-22 09:15:00-06:00'."""
    polls: int
    """Its inactive evidence polls so far."""
    last_poll: str
    groups: list[str]


def event_columns(table: str) -> str:
    """An AlertEvent's columns, selected from `table` (alert_events), times as ISO text."""
    return (
        f"{table}.seq, {table}.id, kind, store_id, batch_id, "
        f"strftime(\"at\" AT TIME ZONE 'UTC', '{ISO}'), "
        f"strftime(started_at AT TIME ZONE 'UTC', '{ISO}'), polls, down_hours, timezone, "
        f"at_local, started_local, groups, strftime(created_at AT TIME ZONE 'UTC', '{ISO}')"
    )


_EVENT_COLUMNS = event_columns("alert_events")


def _groups_condition(column: str, groups: frozenset[str] | None) -> tuple[str, list]:
    if groups is None:
        return "true", []
    return f"list_has_any({column}, ?::VARCHAR[])", [sorted(groups)]


def events_after(
    con: duckdb.DuckDBPyConnection,
    after: int,
    limit: int,
    groups: frozenset[str] | None = None,
) -> tuple[list[AlertEvent], int]:
    """Up to `limit` events with seq > `after`, oldest first, and the seq to ask after next."""
    if not has_table(con, "alert_events"):
        return [], after
    condition, parameters = _groups_condition("groups", groups)
    rows = con.execute(
        f"SELECT {_EVENT_COLUMNS} FROM alert_events WHERE seq > ? AND {condition} "
        "ORDER BY seq LIMIT ?",
        [after, *parameters, min(limit, MAX_LIMIT)],
    ).fetchall()
    events = [AlertEvent(*row) for row in rows]
    return events, (events[-1].seq if events else after)


def store_events(
    con: duckdb.DuckDBPyConnection, store_id: str, limit: int = 20
) -> list[AlertEvent]:
    """A store's latest events, newest first (the caller has checked the store is visible)."""
    try:
        rows = con.execute(
            f"SELECT {_EVENT_COLUMNS} FROM alert_events WHERE store_id = ? "
            "ORDER BY seq DESC LIMIT ?",
            [store_id, limit],
        ).fetchall()
    except duckdb.CatalogException:  # a database without the alerts' tables
        return []
    return [AlertEvent(*row) for row in rows]


def stores_with_events(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The stores that have any event."""
    try:
        rows = con.execute("SELECT DISTINCT store_id FROM alert_events").fetchall()
    except duckdb.CatalogException:  # a database without the alerts' tables
        return frozenset()
    return frozenset(store_id for (store_id,) in rows)


def down_now(
    con: duckdb.DuckDBPyConnection,
    alert_after: int,
    groups: frozenset[str] | None = None,
    limit: int | None = None,
) -> tuple[list[DownStore], int]:
    """The stores down now, longest down first (the first `limit`, if given), and how many are
    down in all. A store not named by a batch since the last full load is decided with
    `alert_after` (its state has no decision yet)."""
    if not has_table(con, "alert_state"):
        return [], 0
    seen, parameters = (
        ("true", [])
        if groups is None
        else (
            "store_key IN (SELECT store_key FROM store_groups WHERE list_contains(?, group_name))",
            [sorted(groups)],
        )
    )
    rows = con.execute(
        f"""
        WITH down_stores AS (  -- those the key sees
            SELECT store_key, started_us, run_polls, last_us
            FROM alert_state
            WHERE coalesce(down, run_polls >= ?) AND started_us IS NOT NULL AND {seen}
        ),
        shown AS (  -- the first `limit` of them, and how many in all
            SELECT down_stores.*, stores.store_id, count(*) OVER () AS down_in_all
            FROM down_stores
            JOIN stores USING (store_key)
            ORDER BY started_us, store_id
            LIMIT ?
        ),
        store_group_lists AS (  -- of the stores shown alone
            SELECT store_key, list(group_name ORDER BY group_name) AS groups
            FROM store_groups
            WHERE store_key IN (SELECT store_key FROM shown)
            GROUP BY store_key
        )
        SELECT
            store_id,
            coalesce(store_timezones.timezone, 'America/Chicago') AS zone,
            strftime(make_timestamptz(started_us) AT TIME ZONE 'UTC', '{ISO}'),
            run_polls,
            strftime(make_timestamptz(last_us) AT TIME ZONE 'UTC', '{ISO}'),
            coalesce(groups, []),
            down_in_all
        FROM shown
        LEFT JOIN store_timezones USING (store_key)
        LEFT JOIN store_group_lists USING (store_key)
        ORDER BY started_us, store_id
        """,
        [alert_after, *parameters, limit],
    ).fetchall()
    stores = [
        DownStore(store_id, zone, since, _local(since, zone), polls, last, groups)
        for store_id, zone, since, polls, last, groups, _ in rows
    ]
    return stores, rows[0][-1] if rows else 0


def _local(utc_text: str, zone: str) -> str:
    moment = datetime.fromisoformat(utc_text.replace("Z", "+00:00")).astimezone(zone_of(zone))
    return moment.isoformat(sep=" ", timespec="seconds")


def down_counts(con: duckdb.DuckDBPyConnection, alert_after: int) -> tuple[int, dict[str, int]]:
    """How many stores are down now, in all and per group (for /metrics)."""
    if not has_table(con, "alert_state"):
        return 0, {}
    down = "coalesce(down, run_polls >= ?)"
    (total,) = con.execute(
        f"SELECT count(*) FROM alert_state WHERE {down}", [alert_after]
    ).fetchone() or (0,)
    per_group = con.execute(
        f"SELECT group_name, count(*) FROM alert_state JOIN store_groups USING (store_key) "
        f"WHERE {down} GROUP BY group_name",
        [alert_after],
    ).fetchall()
    return int(total), {name: int(count) for name, count in per_group}


def events_by_kind(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many events of each kind the data holds (for /metrics)."""
    if not has_table(con, "alert_events"):
        return {}
    rows = con.execute("SELECT kind, count(*) FROM alert_events GROUP BY kind").fetchall()
    return {kind: int(count) for kind, count in rows}
