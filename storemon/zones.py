"""What a time zone is, for all of storemon: a name of the IANA time-zone database (Python's
zoneinfo, with the tzdata package) that DuckDB's ICU knows too.

The SQL converts local times with ICU; the pages draw a store's week with zoneinfo. ICU also
takes forty names the IANA database does not have: abbreviations (`CST`, `PST`, `IST`, which
other tools read otherwise: IST is India, Ireland or Israel) and retired names (`SystemV/AST4`,
`US/Pacific-New`). A store with one of them would be reported in a zone no page could show, so
the load rejects them as `unknown time zone`, saying why (sql/load/12_timezone_rows.sql reads
the names from the variable set here).
"""

from __future__ import annotations

import zoneinfo
from functools import cache

import duckdb

# zoneinfo's name for the machine's own zone, not a zone of the database
NOT_ZONES = frozenset({"localtime"})


@cache
def iana_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones() - NOT_ZONES))


@cache  # at most one per IANA name; zoneinfo's own cache keeps only the 8 used last strongly,
# and reads a zone's file again for each page of a ninth
def zone_of(name: str) -> zoneinfo.ZoneInfo:
    """The zone of an IANA name, read once."""
    return zoneinfo.ZoneInfo(name)


def set_zone_names(con: duckdb.DuckDBPyConnection) -> None:
    """The variable `zone_names`, which sql/load/12_timezone_rows.sql reads: the IANA names."""
    con.execute("SET VARIABLE zone_names = ?::VARCHAR[]", [list(iana_names())])
