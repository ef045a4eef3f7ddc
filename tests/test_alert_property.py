"""Rule 11 (sql/README.md, "Alerts: who is down now"), as a property: random stores, polls,
hours, zones and special hours (tests/test_property.py's strategies) are split into a full load
and random batches of polls, hours, zones and special hours, replayed in order through
`storemon.ingest.ingest` and `storemon.append.append_batch`; after each batch the rows of
`alert_events` with its batch_id are the events of the reference (tests/reference.py,
`batch_events`) between the data before and after it. A full load and a batch sent again make
none."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from storemon.alerts.events import add_hours
from tests import reference
from tests.conftest import Workspace, examples
from tests.test_property import dataset, store

EVENTS = (
    'SELECT kind, store_id, epoch_us("at"), epoch_us(started_at), polls, down_hours, seq '
    "FROM alert_events WHERE batch_id = ?"
)


@pytest.fixture(scope="module")
def shared_workspace():
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace(Path(folder))
        yield ws
        ws.con.close()


class Data:
    """The data as the batches so far left it, replaced as sql/README.md's "Updates" say: polls
    are a union, a batch of hours (zones) replaces all the hours (the zone) of the stores it
    names, one of special hours the rows of each (store, date) it names. Kept as file rows."""

    def __init__(self, polls, hours, zones, special) -> None:
        self.polls: list[tuple] = list(polls)  # (store_id, status, ISO instant)
        self.hours: dict[str, list[tuple]] = {}
        self.zones: dict[str, str] = {}
        self.special: dict[tuple[str, str], list[tuple]] = {}
        for kind, rows in (("hours", hours), ("timezones", zones), ("special_hours", special)):
            self.apply(kind, rows)

    def apply(self, kind: str, rows: list[tuple]) -> None:
        if kind == "polls":
            self.polls += rows
        elif kind == "hours":
            named = {row[0] for row in rows}
            for store_id in named:
                self.hours[store_id] = [row for row in rows if row[0] == store_id]
        elif kind == "timezones":
            self.zones.update(rows)
        elif kind == "special_hours":
            for key in {row[:2] for row in rows}:
                self.special[key] = [row for row in rows if row[:2] == key]
        else:
            raise AssertionError(kind)

    def snapshot(self) -> reference.Snapshot:
        return reference.Snapshot(
            [
                reference.Poll(s, datetime.fromisoformat(at), status == "active")
                for s, status, at in self.polls
            ],
            [
                reference.Hours(s, d, reference.clock(b), reference.clock(e))
                for rows in self.hours.values()
                for s, d, b, e in rows
            ],
            dict(self.zones),
            [
                reference.Special(
                    s, date.fromisoformat(d), *(reference.clock(t) if t else None for t in (b, e))
                )
                for rows in self.special.values()
                for s, d, b, e in rows
            ],
        )


def file_rows(store_id: str, spec: dict, base: datetime):
    """A store of test_property's `store` strategy as the files' rows, around `base`."""
    polls = [
        (store_id, "active" if active else "inactive", (base + offset).isoformat())
        for offset, active in spec["polls"]
    ]
    hours = [(store_id, day, start, end) for day, start, end in spec["hours"]]
    zones = [(store_id, spec["zone"])] if spec["zone"] else []
    special = [
        (store_id, (base.date() + timedelta(days=offset)).isoformat(), *(times or ("", "")))
        for offset, times in spec["special"]
    ]
    return polls, hours, zones, special


def one_batch(draw, kind: str, rows: list[tuple]) -> tuple[str, list[tuple]]:
    """A batch of hours or zones naming some of the stores (all their rows), of special hours
    some of the (store, date) pairs: a batch replaces what the stores (dates) it names had."""
    by_key: dict[tuple, list[tuple]] = {}
    for row in rows:
        by_key.setdefault(row[:2] if kind == "special_hours" else row[:1], []).append(row)
    keys = draw(st.permutations(sorted(by_key)))
    named = keys[: draw(st.integers(1, len(keys)))]
    return kind, [row for key in named for row in by_key[key]]


def in_time(row: tuple) -> tuple:
    """A poll row's order: by its instant."""
    return datetime.fromisoformat(row[2]), row


def event_count(ws: Workspace) -> int:
    """How many events there are (0 before the database has the table)."""
    exists = ws.query("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'alert_events'")
    return ws.query("SELECT count(*) FROM alert_events")[0][0] if exists[0][0] else 0


HOURS = "SELECT * FROM alert_hours ORDER BY ALL"


def alert_hours_made_again(ws: Workspace) -> list[tuple]:
    """alert_hours as the data now make it, for the days it holds (in a transaction rolled
    back): what a batch left there must be true, however many batches ago it was made."""
    ws.con.execute("BEGIN TRANSACTION")
    try:
        ws.con.execute(
            "CREATE OR REPLACE TEMP TABLE alert_days_needed AS "
            "SELECT DISTINCT store_key, day FROM alert_hours"
        )
        ws.con.execute("DELETE FROM alert_hours")
        add_hours(ws.con)
        return ws.query(HOURS)
    finally:
        ws.con.execute("ROLLBACK")


def norm(rows) -> set[tuple]:
    """alert_events rows as the reference's tuples (down_hours to 4 decimals)."""
    return {
        (kind, store_id, at, started, polls, None if hours is None else round(hours, 4))
        for kind, store_id, at, started, polls, hours, _ in rows
    }


@settings(
    max_examples=examples(5),  # (each replays a load and a few batches: about 0.8 s)
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
@given(
    data=dataset,
    later=st.lists(store, min_size=4, max_size=4),
    k=st.integers(1, 3),
    draw=st.data(),
)
def test_each_batch_makes_the_events_of_the_reference(shared_workspace, data, later, k, draw):
    ws = shared_workspace
    base = data["anchor"] + data["shift"]
    # Each store's rows (test_property's), and for the batches the rows of another draw: its
    # polls are added by the batches (among the loaded ones in time, or after them); its hours,
    # zone and special rows replace the load's.
    polls, added, loaded, changes = [], [], ([], [], []), ([], [], [])
    for number, (spec, other) in enumerate(zip(data["stores"], later, strict=False)):
        store_id = f"{number + 1:019d}"
        first, *rest = file_rows(store_id, spec, base)
        more, *replacing = file_rows(store_id, other, base)
        polls += first
        added += more
        for into, rows in zip(loaded, rest, strict=True):
            into += rows
        for into, rows in zip(changes, replacing, strict=True):
            into += rows
    # The load: the earliest polls of the first draw (a random number of them); the batches: the
    # rest and the other draw's, in time order or any order, in random pieces, with the batches
    # of hours, zones and special hours among them anywhere.
    polls.sort(key=in_time)
    cut = draw.draw(st.integers(0, len(polls)), label="polls loaded")
    first, rest = polls[:cut], sorted(polls[cut:] + added, key=in_time)
    if draw.draw(st.booleans(), label="later polls out of order"):
        rest = list(draw.draw(st.permutations(rest)))
        event("polls out of order")
    # (Few batches: each costs a tenth of a second or more, and the test keeps under 20 s.)
    cuts = sorted(draw.draw(st.lists(st.integers(0, len(rest)), max_size=2), label="cuts"))
    pieces = [rest[a:b] for a, b in zip([0, *cuts], [*cuts, len(rest)], strict=True)]
    batches = [("polls", piece) for piece in pieces if piece]
    kinds = draw.draw(
        st.lists(st.sampled_from(("hours", "timezones", "special_hours")), unique=True, max_size=2),
        label="kinds of the other batches",
    )
    for kind, rows in zip(("hours", "timezones", "special_hours"), changes, strict=True):
        if kind in kinds and rows:
            batch = one_batch(draw.draw, kind, rows)
            batches.insert(draw.draw(st.integers(0, len(batches))), batch)
    again = draw.draw(st.integers(0, len(batches) - 1), label="sent again") if batches else None

    # The reference's events for each batch, from the data before and after it. Data in which
    # no store ever has evidence says nothing of alerts: drawn again (before any load, which
    # costs far more than the drawing).
    hours, zones, special = loaded
    current = Data(first, hours, zones, special)
    steps, evidence = [], False
    for kind, rows in batches:
        before = current.snapshot()
        current.apply(kind, rows)
        after = current.snapshot()
        steps.append((kind, rows, reference.batch_events(before, after, k)))
        evidence = evidence or any(s.evidence for s, _ in reference.alert_stores(after).values())
    assume(evidence)

    events_before = event_count(ws)
    ws.load(status=first, hours=hours, zones=zones, special=special or None)  # (no file: faster)
    # the full load is the baseline: no event
    assert event_count(ws) == events_before

    made = 0
    for number, (kind, rows, expected) in enumerate(steps):
        last_seq = ws.query("SELECT coalesce(max(seq), 0) FROM alert_events")[0][0]
        # (data_quality is not made again: the service makes it after a burst of batches, and
        # the events do not read it)
        answer = ws.append(
            kind, rows, name=f"batch{number}.csv", alert_after=k, refresh_quality=False
        )
        if answer.repeated:  # the same content as an earlier batch: it changes nothing
            assert expected == set(), (kind, rows)
            assert answer.events == 0
            continue
        got = ws.query(EVENTS, [answer.batch_id])
        assert norm(got) == expected, (number, kind, rows)
        assert len(got) == len(expected) == answer.events
        # the business time the alerts keep is the data's, after every kind of batch
        assert ws.query(HOURS) == alert_hours_made_again(ws), (number, kind)
        # seq increases by one
        assert sorted(row[-1] for row in got) == list(range(last_seq + 1, last_seq + 1 + len(got)))
        made += len(got)
        for kind_made, *_ in expected:
            event(f"a {kind_made} event after a batch of {kind}")
        if number == again:
            count = event_count(ws)
            repeat = ws.append(
                kind, rows, name=f"batch{number}-again.csv", alert_after=k, refresh_quality=False
            )
            assert repeat.repeated and repeat.batch_id == answer.batch_id
            assert repeat.events == 0
            assert event_count(ws) == count
    event(f"K = {k}")
    event(f"events made: {min(made, 3)}{'+' if made > 3 else ''}")
