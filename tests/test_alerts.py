"""Rule 11 (sql/README.md, "Alerts: who is down now"): the events each batch makes, by hand, with
exact instants (the property test against the reference: tests/test_alert_property.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from storemon.append import append_batch
from storemon.ingest import ingest
from tests.conftest import (
    HOURS_HEADER,
    SPECIAL_HEADER,
    STATUS_HEADER,
    ZONES_HEADER,
    write_csv,
)
from tests.reference import Hours, Poll, Special, micros

EVENT_FIELDS = 'kind, store_id, epoch_us("at"), epoch_us(started_at), polls, down_hours'


class Feed:
    """A database loaded once, then fed batches, each CSV written to `folder`."""

    def __init__(self, folder: Path, polls, hours, zones, special=()) -> None:
        self.folder = folder
        self.count = 0
        self.con = duckdb.connect()
        ingest(
            self.con,
            self._csv(STATUS_HEADER, _poll_rows(polls)),
            self._csv(HOURS_HEADER, _hours_rows(hours)),
            self._csv(ZONES_HEADER, sorted(zones.items())),
            special_hours=self._csv(SPECIAL_HEADER, _special_rows(special)) if special else None,
            allow_empty=True,
        )

    def _csv(self, header, rows) -> Path:
        self.count += 1
        return write_csv(self.folder / f"{self.count}.csv", header, rows)

    def batch(self, kind: str, rows, alert_after: int = 1) -> set[tuple]:
        header = {
            "polls": STATUS_HEADER,
            "hours": HOURS_HEADER,
            "timezones": ZONES_HEADER,
            "special_hours": SPECIAL_HEADER,
        }[kind]
        answer = append_batch(
            self.con, kind, self._csv(header, rows), alert_after=alert_after, allow_empty=True
        )
        if answer.repeated:  # the batch id is the first sending's: its events are that one's
            assert answer.events == 0
            return set()
        found = self.con.execute(
            f"SELECT {EVENT_FIELDS} FROM alert_events WHERE batch_id = ?", [answer.batch_id]
        ).fetchall()
        assert len(found) == answer.events
        return set(found)


def _poll_rows(polls: list[Poll]):
    return [
        (p.store_id, "active" if p.active else "inactive", p.at.strftime("%Y-%m-%d %H:%M:%S"))
        for p in polls
    ]


def _clock(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"


def _hours_rows(hours: list[Hours]):
    return [(h.store_id, h.day, _clock(h.start), _clock(h.end)) for h in hours]


def _special_rows(special: list[Special]):
    return [
        (
            s.store_id,
            s.day.isoformat(),
            _clock(s.start) if s.start is not None else "",
            _clock(s.end) if s.end is not None else "",
        )
        for s in special
    ]


MONDAY = datetime(2024, 1, 8, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)
US_H = 3_600_000_000


def poll(store: str, hours_after: float, active: bool) -> Poll:
    return Poll(store, MONDAY + hours_after * H, active)


def open_8_to_20(store: str) -> list[Hours]:
    return [Hours(store, day, timedelta(hours=8), timedelta(hours=20)) for day in range(7)]


def us(hours_after: float) -> int:
    return micros(MONDAY + hours_after * H)


# --- by hand ---------------------------------------------------------------------------------
# Stores in UTC, open 08:00-20:00 every day: Monday 08:00 is hours_after 8.


@pytest.fixture
def feed(tmp_path):
    def make(polls, hours=None, zones=None, special=()):
        stores = {p.store_id for p in polls}
        return Feed(
            tmp_path,
            polls,
            hours if hours is not None else [h for s in sorted(stores) for h in open_8_to_20(s)],
            zones if zones is not None else dict.fromkeys(stores, "UTC"),
            special,
        )

    return make


def rows(*polls: Poll):
    return _poll_rows(list(polls))


def test_an_inactive_poll_takes_a_store_down_and_an_active_one_brings_it_back(feed):
    f = feed([poll("a", 9, True), poll("a", 10, True)])
    assert f.batch("polls", rows(poll("a", 11, False))) == {
        ("down", "a", us(11), us(10.5), 1, None)
    }
    assert f.batch("polls", rows(poll("a", 12, False))) == set()  # still down: no event
    # back at 13:00: down from 10:30 to the midpoint of 12:00 and 13:00, 2 h
    assert f.batch("polls", rows(poll("a", 13, True))) == {("up", "a", us(13), us(10.5), 2, 2.0)}


def test_with_k_2_one_inactive_poll_is_not_down_two_are(feed):
    f = feed([poll("a", 9, True)])
    assert f.batch("polls", rows(poll("a", 10, False)), alert_after=2) == set()
    assert f.batch("polls", rows(poll("a", 11, False)), alert_after=2) == {
        ("down", "a", us(11), us(9.5), 2, None)
    }


def test_a_poll_while_closed_is_no_evidence_and_makes_no_event(feed):
    f = feed([poll("a", 9, True)])
    assert f.batch("polls", rows(poll("a", 21, False))) == set()  # 21:00: closed
    assert f.con.execute("SELECT run_polls, down FROM alert_state").fetchall() == [(0, False)]


def test_an_outage_over_a_closed_night_counts_business_time_only(feed):
    f = feed([poll("a", 18, True)])
    assert f.batch("polls", rows(poll("a", 19, False))) == {
        ("down", "a", us(19), us(18.5), 1, None)
    }
    # Tuesday 09:00 (hours_after 33) active: the midpoint is Tuesday 02:00 (closed), so the
    # down time is Monday 18:30-20:00, 1.5 h of business time
    assert f.batch("polls", rows(poll("a", 33, True))) == {("up", "a", us(33), us(18.5), 1, 1.5)}


def test_a_stores_first_poll_stands_for_the_week_before_it(feed):
    f = feed([poll("b", 9, True)])  # (a load of another store)
    # its span reaches back without end: the outage's start is looked for a week back (the
    # Monday before, 11:00, was open)
    assert f.batch("polls", rows(poll("a", 11, False))) == {
        ("down", "a", us(11), us(11 - 168), 1, None)
    }


def test_hours_that_make_the_outage_no_evidence_end_it_without_a_poll(feed):
    f = feed([poll("a", 9, True), poll("a", 10, False)])
    assert f.batch("polls", rows(poll("a", 11, False))) == set()  # down since the load
    # now open 08:00-09:30 only: the 10:00 and 11:00 polls say nothing; no active poll ended it
    up = f.batch("hours", [("a", 0, "08:00", "09:30")])
    assert up == {("up", "a", us(9), us(9.5), 2, 0.0)}


def test_a_batch_sent_again_and_a_full_load_make_no_event(feed, tmp_path):
    f = feed([poll("a", 9, True)])
    down = rows(poll("a", 10, False))
    assert len(f.batch("polls", down)) == 1
    assert f.batch("polls", down) == set()  # the same batch: recognised, nothing changed
    ingest(
        f.con,
        write_csv(tmp_path / "load.csv", STATUS_HEADER, rows(poll("a", 9, False))),
        write_csv(tmp_path / "h.csv", HOURS_HEADER, []),
        write_csv(tmp_path / "z.csv", ZONES_HEADER, []),
        allow_empty=True,
    )
    assert f.con.execute("SELECT count(*) FROM alert_events").fetchone() == (1,)


def test_a_store_in_new_york_over_the_spring_forward_night(feed):
    """Open 00:00-00:00 (24 h on the wall clock) in New York; Sunday 10 March 2024 has 23 h."""
    start = datetime(2024, 3, 10, 5, 0, tzinfo=UTC)  # 00:00 EST
    f = feed(
        [Poll("a", start, True)],
        hours=[Hours("a", d, timedelta(0), timedelta(0)) for d in range(7)],
        zones={"a": "America/New_York"},
    )
    got = f.batch("polls", _poll_rows([Poll("a", start + 4 * H, False)]))
    assert got == {("down", "a", micros(start + 4 * H), micros(start + 2 * H), 1, None)}
    # 09:00 UTC is 05:00 EDT; the midpoint with 05:00 UTC is 07:00 UTC, 03:00 EDT (02:00-03:00
    # did not happen)
    row = f.con.execute("SELECT at_local, started_local FROM alert_events").fetchone()
    assert row == ("2024-03-10 05:00:00-04:00", "2024-03-10 03:00:00-04:00")


def test_special_hours_that_close_the_day_end_an_outage(feed):
    f = feed([poll("a", 9, True), poll("a", 10, False)])
    assert f.batch("polls", rows(poll("a", 11, False))) == set()
    got = f.batch("special_hours", [("a", "2024-01-08", "", "")])  # Monday closed
    assert {kind for kind, *_ in got} == {"up"}
