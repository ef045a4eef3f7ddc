"""Synthetic, real-shaped input files of any size, the same for the same seed.

Stores get 19-digit or UUID ids, mostly US zones (some missing), and hours of many shapes:
none (24x7), all day, one interval, split days (2-3 intervals), overnight, overlapping rows,
start = end, closed days. Polls come every `poll_minutes` with jitter, in no particular order,
with outages that last a few polls. Store attributes come from Python's seeded `random`; the
polls, which can be tens of millions, are made by DuckDB from a hash of (seed, store, slot),
so they too depend on nothing but the arguments.
"""

from __future__ import annotations

import csv
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from storemon.database import one

DEFAULT_END = datetime(2023, 3, 15, 12, 0, tzinfo=UTC)  # the week holds the US spring-forward

ZONES = [
    ("America/Chicago", 30),
    ("America/New_York", 25),
    ("America/Los_Angeles", 15),
    ("America/Denver", 8),
    ("America/Phoenix", 3),
    ("America/Boise", 2),
    ("America/Indiana/Indianapolis", 2),
    ("America/Detroit", 2),
    ("America/Anchorage", 1),
    ("Pacific/Honolulu", 1),
    ("Europe/London", 1),
    ("Asia/Kolkata", 1),
    ("Australia/Sydney", 1),
]


@dataclass(frozen=True)
class GeneratedFiles:
    status: Path
    hours: Path
    timezones: Path
    stores: int
    polls: int
    special: Path | None = None  # special_hours.csv (loaded only when asked for)
    groups: Path | None = None  # store_groups.csv (loaded only when asked for)


# Special hours: this share of stores has SPECIAL_DAYS dates in the data's days, each closed or
# open 11:00-15:00 and 17:00-23:00 (a holiday, a private event).
SPECIAL_SHARE = 0.3
SPECIAL_DAYS = 2


def _special_rows(ids: list[str], end: datetime, days: int, seed: int) -> list[tuple]:
    rng = random.Random(seed * 7919 + 1)  # its own: the other files stay as they were
    first = (end - timedelta(days=days)).date()
    rows: list[tuple] = []
    for store_id in ids:
        if rng.random() >= SPECIAL_SHARE:
            continue
        for offset in sorted(rng.sample(range(days), min(SPECIAL_DAYS, days))):
            day = (first + timedelta(days=offset + 1)).isoformat()
            if rng.random() < 0.5:
                rows.append((store_id, day, "", ""))
            else:
                rows += [(store_id, day, "11:00", "15:00"), (store_id, day, "17:00", "23:00")]
    return rows


# Groups: every store has an owner (owner:o0001 has OWNER_STORES stores when there are that many,
# the others 1 to 30), most a brand (one of BRANDS), and a region named for its zone (or none).
OWNER_STORES = 60
BRANDS = 12


def _group_rows(ids: list[str], zones: dict[str, str], seed: int) -> list[tuple]:
    rng = random.Random(seed * 104729 + 2)  # its own: the other files stay as they were
    rows: list[tuple] = []
    owner, left = 1, min(OWNER_STORES, len(ids))
    for store_id in ids:
        if left == 0:
            owner, left = owner + 1, rng.randint(1, 30)
        rows.append((store_id, f"owner:o{owner:04d}"))
        left -= 1
        if rng.random() < 0.8:
            rows.append((store_id, f"brand:b{rng.randrange(BRANDS) + 1:02d}"))
        if store_id in zones:
            rows.append((store_id, "region:" + zones[store_id].rsplit("/", 1)[-1].lower()))
    return rows


def _store_id(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return str(rng.randrange(10**18, 9 * 10**18))


def _weekly_rows(rng: random.Random) -> list[tuple[int, str, str]]:
    """(day, start, end) rows of one store; [] means no hours at all (open 24x7)."""
    shape = rng.random()
    days = list(range(7))
    if shape < 0.10:
        return []
    if shape < 0.20:
        return [(d, "00:00:00", "23:59:59") for d in days]
    closed = rng.sample(days, k=rng.choice([0, 0, 1, 2]))
    open_days = [d for d in days if d not in closed]
    if shape < 0.55:
        start, end = rng.randint(6, 11), rng.randint(19, 23)
        minute = rng.choice(["00", "30"])
        return [(d, f"{start:02}:{minute}:00", f"{end:02}:00:00") for d in open_days]
    if shape < 0.75:
        rows = []
        for d in open_days:
            rows += [(d, "11:00", "14:30"), (d, "17:00", "22:00")]
            if rng.random() < 0.3:
                rows.append((d, "07:00", "10:00"))
        return rows
    if shape < 0.87:
        close = rng.choice(["01:00", "02:00", "02:30", "03:00"])
        return [(d, "18:00", close) for d in open_days]
    if shape < 0.95:
        return [row for d in open_days for row in ((d, "10:00", "16:00"), (d, "15:00", "23:30"))]
    return [(d, "09:00", "09:00") for d in open_days]


def generate(
    out: Path,
    stores: int = 300,
    days: int = 7,
    poll_minutes: int = 60,
    seed: int = 42,
    end: datetime = DEFAULT_END,
    bad_rows: bool = False,
) -> GeneratedFiles:
    """Write store_status.csv, menu_hours.csv and timezones.csv into `out`, and
    special_hours.csv (special hours for SPECIAL_SHARE of the stores) and store_groups.csv
    (owners, brands, regions)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    ids = list(dict.fromkeys(_store_id(rng) for _ in range(stores)))
    zone_names, zone_weights = zip(*ZONES, strict=True)

    files = GeneratedFiles(
        out / "store_status.csv", out / "menu_hours.csv", out / "timezones.csv", len(ids), 0
    )
    zones: dict[str, str] = {}
    with (
        files.hours.open("w", newline="") as hours,
        files.timezones.open("w", newline="") as zone_file,
    ):
        hours_csv, zones_csv = csv.writer(hours), csv.writer(zone_file)
        hours_csv.writerow(["store_id", "dayOfWeek", "start_time_local", "end_time_local"])
        zones_csv.writerow(["store_id", "timezone_str"])
        for store_id in ids:
            hours_csv.writerows((store_id, *row) for row in _weekly_rows(rng))
            if rng.random() > 0.08:
                zones[store_id] = rng.choices(zone_names, zone_weights)[0]
                zones_csv.writerow([store_id, zones[store_id]])
        if bad_rows:
            hours_csv.writerows(
                [
                    [ids[0], "7", "09:00", "17:00"],
                    [ids[1], "1", "9am", "17:00"],
                    ["", "2", "09:00", "17:00"],
                ]
            )
            zones_csv.writerows([[ids[2], "Mars/Olympus_Mons"], [ids[3], "America/Chicago", "x"]])

    slots = days * 24 * 60 // poll_minutes
    step_us = poll_minutes * 60 * 1_000_000
    start_us = int((end - timedelta(days=days)).timestamp() * 1_000_000)
    con = duckdb.connect()
    con.execute("CREATE TABLE ids (idx INTEGER, store_id VARCHAR, outage_per_10k INTEGER)")
    con.executemany(
        "INSERT INTO ids VALUES (?, ?, ?)",
        [(i, s, rng.choice([0, 50, 150, 400, 1500])) for i, s in enumerate(ids)],
    )
    (polls,) = one(
        con,
        f"""
        COPY (
            WITH slots AS (
                SELECT idx, store_id, outage_per_10k, slot
                FROM ids, range({slots}) AS t(slot)
            ),
            polls AS (
                SELECT
                    store_id,
                    {start_us} + slot * {step_us}
                        + (hash({seed}, idx, slot, 1) % {step_us})::BIGINT AS at_us,
                    hash({seed}, idx, slot // 3, 2) % 10000 < outage_per_10k
                        OR hash({seed}, idx, slot, 3) % 10000 < 100 AS down,
                    hash({seed}, idx, slot, 4) AS shuffle
                FROM slots
                WHERE hash({seed}, idx, slot, 5) % 100 < 97  -- a few polls go missing
            )
            SELECT
                store_id,
                CASE WHEN down THEN 'inactive' ELSE 'active' END AS status,
                strftime(make_timestamp(at_us), '%Y-%m-%d %H:%M:%S.%f') || ' UTC' AS timestamp_utc
            FROM polls
            ORDER BY shuffle
        ) TO '{files.status}' (HEADER)
        """,
    )  # COPY answers the rows it wrote
    if bad_rows:
        with files.status.open("a", newline="") as status:
            csv.writer(status).writerows(
                [
                    [ids[0], "active", "2023-02-30 10:00:00 UTC"],
                    [ids[1], "online", "2023-03-10 10:00:00 UTC"],
                    [ids[2], "active"],
                    ["", "inactive", "2023-03-10 10:00:00 UTC"],
                    [ids[3], "active", "yesterday"],
                ]
            )
    special = out / "special_hours.csv"
    with special.open("w", newline="") as handle:
        special_csv = csv.writer(handle)
        special_csv.writerow(["store_id", "date", "start_time_local", "end_time_local"])
        special_csv.writerows(_special_rows(ids, end, days, seed))
    groups = out / "store_groups.csv"
    with groups.open("w", newline="") as handle:
        groups_csv = csv.writer(handle)
        groups_csv.writerow(["store_id", "group"])
        groups_csv.writerows(_group_rows(ids, zones, seed))
    return GeneratedFiles(
        files.status, files.hours, files.timezones, len(ids), polls, special, groups
    )
