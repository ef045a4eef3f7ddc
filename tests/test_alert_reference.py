"""The reference's reading of rule 11 (sql/README.md, "Alerts: who is down now"), by hand: each
case's down-now set and events worked out on paper, so that tests/test_alert_property.py
compares the SQL with something known to read the rule right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.reference import (
    NO_EVIDENCE,
    DownState,
    Hours,
    Poll,
    Snapshot,
    Special,
    alert_stores,
    batch_events,
    clock,
    down_now,
    micros,
)

MONDAY = datetime(2023, 1, 9, tzinfo=UTC)  # a Monday; the stores below are in UTC
WEEK = timedelta(days=7)
WEEK_US = 168 * 3_600_000_000


def at(text: str, day: datetime = MONDAY) -> datetime:
    """`HH:MM` on `day` (MONDAY unless said), or `+1 HH:MM` on the day after."""
    if text.startswith("+"):
        days, text = text[1:].split(" ")
        day += timedelta(days=int(days))
    return day + clock(text)


def us(text: str, day: datetime = MONDAY) -> int:
    return micros(at(text, day))


def daily(start: str, end: str, store: str = "s", days=range(7)) -> list[Hours]:
    return [Hours(store, day, clock(start), clock(end)) for day in days]


def data(polls, hours=None, zone="UTC", special=(), store="s") -> Snapshot:
    """One store's data: polls as (text or datetime, active)."""
    return Snapshot(
        [Poll(store, at(t) if isinstance(t, str) else t, active) for t, active in polls],
        daily("09:00", "17:00") if hours is None else hours,
        {store: zone},
        list(special),
    )


def state(snapshot: Snapshot, store: str = "s") -> DownState:
    return alert_stores(snapshot)[store][1]


def test_one_inactive_poll_takes_a_store_down_with_k_1():
    before = data([("10:00", True)])
    after = data([("10:00", True), ("11:00", False)])
    assert state(after) == DownState(us("11:00"), 1, us("11:00"), us("10:00"), us("10:30"))
    assert down_now(before, 1) == set()
    assert down_now(after, 1) == {"s"}
    # at: its last evidence poll; started: the midpoint with the active poll before
    assert batch_events(before, after, 1) == {("down", "s", us("11:00"), us("10:30"), 1, None)}


def test_with_k_2_one_inactive_poll_is_not_down_two_are():
    load = data([("10:00", True)])
    first = data([("10:00", True), ("11:00", False)])
    second = data([("10:00", True), ("11:00", False), ("12:00", False)])
    assert batch_events(load, first, 2) == set()
    assert down_now(first, 2) == set()
    assert batch_events(first, second, 2) == {("down", "s", us("12:00"), us("10:30"), 2, None)}
    # with K = 3 neither batch; with K = 1 the first one
    assert batch_events(first, second, 3) == set()
    assert batch_events(load, first, 1) == {("down", "s", us("11:00"), us("10:30"), 1, None)}


def test_a_store_with_fewer_than_k_evidence_polls_is_not_down():
    only = data([("10:00", False)])
    assert state(only).run_polls == 1
    assert down_now(only, 1) == {"s"}
    assert down_now(only, 2) == set()


MONDAY_9_TO_17 = daily("09:00", "17:00", days=[0])


def test_an_active_poll_ends_the_outage_at_the_midpoint_before_it():
    # Open Mondays 09:00-17:00; down since the load's 10:00 poll, the first: its span reaches
    # back without end, so the outage starts a week before it (the Monday before, 10:00, open).
    before = data([("10:00", False)], MONDAY_9_TO_17)
    after = data([("10:00", False), ("12:00", True)], MONDAY_9_TO_17)
    assert state(before) == DownState(us("10:00"), 1, us("10:00"), None, us("10:00") - WEEK_US)
    # ended 11:00 (the midpoint of 10:00 and 12:00): down the Monday before 10:00-17:00 (7 h)
    # and this Monday 09:00-11:00 (2 h)
    assert batch_events(before, after, 1) == {
        ("up", "s", us("12:00"), us("10:00", MONDAY - WEEK), 1, 9.0)
    }


def test_an_outage_starts_at_the_opening_when_the_week_before_was_closed():
    # The Monday before closed (special): the first business instant from a week before the
    # 10:00 poll is this Monday's opening, 09:00.
    closed = [Special("s", (MONDAY - WEEK).date(), None, None)]
    before = data([("10:00", False)], MONDAY_9_TO_17, special=closed)
    after = data([("10:00", False), ("12:00", True)], MONDAY_9_TO_17, special=closed)
    assert state(before).started == us("09:00")
    assert batch_events(before, after, 1) == {("up", "s", us("12:00"), us("09:00"), 1, 2.0)}


def test_an_outage_after_an_active_poll_starts_at_their_midpoint():
    before = data([("09:00", True), ("10:00", False)], MONDAY_9_TO_17)
    after = data([("09:00", True), ("10:00", False), ("12:00", True)], MONDAY_9_TO_17)
    # 09:30 to 11:00
    assert batch_events(before, after, 1) == {("up", "s", us("12:00"), us("09:30"), 1, 1.5)}


def test_k_2_an_up_event_counts_every_inactive_poll_of_the_outage():
    polls = [("09:00", True), ("10:00", False), ("11:00", False), ("11:30", False)]
    before = data(polls)
    after = data([*polls, ("13:00", True)])
    # 09:30 to 12:15
    assert batch_events(before, after, 2) == {("up", "s", us("13:00"), us("09:30"), 3, 2.75)}


def test_an_outage_over_a_closed_night_counts_only_business_time():
    polls = [("16:00", True), ("16:30", False), ("+1 09:30", False)]
    before = data(polls)
    after = data([*polls, ("+1 10:30", True)])
    # Monday 16:15-17:00 and Tuesday 09:00-10:00 (the midpoint of 09:30 and 10:30); the night's
    # 16 closed hours say nothing
    assert batch_events(before, after, 1) == {("up", "s", us("+1 10:30"), us("16:15"), 2, 1.75)}
    # the midpoint 16:30 / Tuesday 09:30 is 01:00, closed: the down event's start stays 16:15
    assert state(before).started == us("16:15")


def test_an_outage_whose_end_falls_in_the_closed_night():
    before = data([("16:00", True), ("16:30", False)])
    after = data([("16:00", True), ("16:30", False), ("+1 10:00", True)])
    # ended at the midpoint 16:30 / Tuesday 10:00, Tuesday 01:15: 16:15-17:00 only
    assert batch_events(before, after, 1) == {("up", "s", us("+1 10:00"), us("16:15"), 1, 0.75)}


def test_a_poll_while_closed_changes_nothing():
    down = data([("10:00", True), ("11:00", False)])
    assert batch_events(down, data([("10:00", True), ("11:00", False), ("20:00", True)]), 1) == (
        set()
    )
    up = data([("10:00", True)])
    later = data([("10:00", True), ("20:00", False), ("+1 08:59", False), ("17:00", False)])
    assert state(later) == state(up)
    assert batch_events(up, later, 1) == set()


def test_polls_at_one_instant_count_once_and_inactive_wins():
    before = data([("10:00", True), ("11:00", True)])
    after = data([("10:00", True), ("11:00", True), ("11:00", False)])
    assert batch_events(before, after, 1) == {("down", "s", us("11:00"), us("10:30"), 1, None)}


def test_hours_that_make_the_outage_no_evidence_end_it_without_an_active_poll():
    polls = [("09:30", True), ("10:00", False), ("11:00", False)]
    before = data(polls, MONDAY_9_TO_17)
    assert state(before) == DownState(us("11:00"), 2, us("10:00"), us("09:30"), us("09:45"))
    # now open 09:00-10:00: 10:00 (the closing instant) and 11:00 are no evidence, and no active
    # poll came after 10:00: ended at 11:00 (its last evidence poll before), its 2 polls, at the
    # store's last evidence poll now (09:30), down 09:45-11:00 in the hours now: 09:45-10:00
    after = data(polls, daily("09:00", "10:00", days=[0]))
    assert state(after) == DownState(us("09:30"), 0, None, None, None)
    assert batch_events(before, after, 1) == {("up", "s", us("09:30"), us("09:45"), 2, 0.25)}


def test_hours_that_make_a_later_active_poll_evidence_end_the_outage_there():
    polls = [("09:30", True), ("10:00", False), ("11:00", False), ("18:00", True)]
    before = data(polls, MONDAY_9_TO_17)  # 18:00: closed
    after = data(polls, daily("09:00", "19:00", days=[0]))
    # ended at the midpoint 11:00 / 18:00, 14:30: 09:45-14:30
    assert batch_events(before, after, 1) == {("up", "s", us("18:00"), us("09:45"), 2, 4.75)}


def test_hours_that_leave_only_a_later_active_poll_as_evidence():
    # The rule leaves this open: the active 18:00 poll is the first after the outage's first
    # poll, but no evidence poll is before it, so there is no midpoint. Read as the rule's case
    # without an active poll for where it ended (its last evidence poll before the batch,
    # 11:00), and as the case with one for `at` (18:00) and `polls` (none now before 18:00).
    polls = [("10:00", False), ("11:00", False), ("18:00", True)]
    before = data(polls, MONDAY_9_TO_17)
    after = data(polls, daily("17:30", "19:00", days=[0]))
    assert state(before).started == us("10:00", MONDAY - WEEK)
    # business time now from the Monday before 10:00 to this Monday 11:00: the Monday before,
    # 17:30-19:00
    assert batch_events(before, after, 1) == {
        ("up", "s", us("18:00"), us("10:00", MONDAY - WEEK), 0, 1.5)
    }


def test_hours_that_leave_an_earlier_poll_and_a_later_active_one_as_evidence():
    # As the rule's words go, not as its intent may: the outage's polls (10:00, 11:00) are no
    # evidence now, yet the active 18:00 poll "ends" it, at the midpoint with the evidence poll
    # before it, 09:00 (before the outage): 13:30, with no poll; the business time from its
    # start (09:30) to 13:30 in the hours now is 09:30-09:45.
    polls = [("09:00", True), ("10:00", False), ("11:00", False), ("18:00", True)]
    before = data(polls, MONDAY_9_TO_17)
    after = data(polls, [*daily("09:00", "09:45", days=[0]), *daily("17:30", "19:00", days=[0])])
    assert state(before).started == us("09:30")
    assert batch_events(before, after, 1) == {("up", "s", us("18:00"), us("09:30"), 0, 0.25)}


def test_an_outage_over_the_fall_back_night_in_new_york():
    # Open 22:00-06:00 every night in New York. Saturday 4 November 2023 22:00 EDT (02:00 UTC)
    # to Sunday 06:00 EST (11:00 UTC) is 9 hours; Sunday 22:00 EST is Monday 03:00 UTC.
    night = daily("22:00", "06:00")
    utc = datetime(2023, 11, 5, tzinfo=UTC)
    polls = [(at("02:00", utc), True), (at("03:00", utc), False), (at("+1 04:00", utc), False)]
    before = data(polls, night, "America/New_York")
    after = data([*polls, (at("+1 05:00", utc), True)], night, "America/New_York")
    assert state(before).started == us("02:30", utc)
    # 02:30-11:00 (8.5 h, one more than the wall clock's 05:30) and Monday 03:00-04:30 (1.5 h)
    assert batch_events(before, after, 1) == {
        ("up", "s", us("+1 05:00", utc), us("02:30", utc), 2, 10.0)
    }


def test_the_week_back_from_a_first_poll_after_the_spring_forward_change():
    # Open 09:00-17:00 in New York; the first poll, Monday 13 March 2023 09:30 EDT (13:30 UTC),
    # is inactive. A week (168 h) before it is Monday 6 March 13:30 UTC, 08:30 EST: closed, so
    # the outage starts at that day's opening, 09:00 EST (14:00 UTC).
    hours = daily("09:00", "17:00")
    first = datetime(2023, 3, 13, 13, 30, tzinfo=UTC)
    before = data([], hours, "America/New_York")
    after = data([(first, False)], hours, "America/New_York")
    started = micros(datetime(2023, 3, 6, 14, tzinfo=UTC))
    assert state(after) == DownState(micros(first), 1, micros(first), None, started)
    assert batch_events(before, after, 1) == {("down", "s", micros(first), started, 1, None)}


def test_a_store_without_evidence_is_never_down():
    # polls only while closed (08:59, the closing instant 17:00, 20:00)
    polls = [("08:59", False), ("17:00", False)]
    before = data(polls)
    after = data([*polls, ("20:00", False)])
    assert state(after) == NO_EVIDENCE
    assert down_now(after, 1) == set()
    assert batch_events(before, after, 1) == set()
    # a store with hours only on another day: none of its polls is evidence
    assert down_now(data(polls, daily("09:00", "17:00", days=[3])), 1) == set()


def test_nothing_changed_makes_no_event():
    # a batch sent again, as the data before and after are the same
    snapshot = data([("10:00", True), ("11:00", False)])
    again = data([("10:00", True), ("11:00", False), ("11:00", False)])
    assert batch_events(snapshot, snapshot, 1) == set()
    assert batch_events(snapshot, again, 1) == set()


def test_only_stores_whose_state_changes_get_events():
    before = Snapshot(
        [Poll("a", at("10:00"), False), Poll("b", at("10:00"), True)],
        [*daily("09:00", "17:00", "a"), *daily("09:00", "17:00", "b")],
        {"a": "UTC", "b": "UTC"},
    )
    after = Snapshot(
        [*before.polls, Poll("b", at("11:00"), False), Poll("c", at("11:00"), False)],
        before.hours,
        before.zones,
    )
    # c has no hours: open 24x7, its first poll's span reaches a week back, all open
    assert batch_events(before, after, 1) == {
        ("down", "b", us("11:00"), us("10:30"), 1, None),
        ("down", "c", us("11:00"), us("11:00") - WEEK_US, 1, None),
    }
