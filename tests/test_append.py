"""Updates: batches appended in any split and any order give the tables and the report of one
full load of the same rows (sql/README.md, "Updates"), and each batch is all or nothing."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from storemon.append import BatchRetention, append_batch, as_csv, forget_old_batches
from storemon.errors import KeyReused, StoremonError
from tests import reference
from tests.conftest import Workspace, examples
from tests.test_property import REACH, dataset


def rows_of(data):
    """The dataset's polls, hours, zones and special hours as the files' rows, and its as-of."""
    base = data["anchor"] + data["shift"]
    polls, hours, zones, special = [], [], [], []
    for number, spec in enumerate(data["stores"]):
        store_id = f"{number + 1:019d}"
        polls += [
            (store_id, "active" if active else "inactive", (base + offset).isoformat())
            for offset, active in spec["polls"]
        ]
        hours += [(store_id, day, start, end) for day, start, end in spec["hours"]]
        if spec["zone"]:
            zones.append((store_id, spec["zone"]))
        for offset, times in spec["special"]:
            day = (base.date() + timedelta(days=offset)).isoformat()
            special.append((store_id, day, *(times or ("", ""))))
    as_of = base + data["as_of"] if data["as_of"] is not None else None
    return polls, hours, zones, special, as_of


@pytest.fixture(scope="module")
def two_workspaces():
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as other:
        whole, batched = Workspace(Path(one)), Workspace(Path(other))
        yield whole, batched
        whole.con.close()
        batched.con.close()


def batches_of(draw, kind: str, rows: list[tuple]) -> list[tuple[str, list[tuple]]]:
    """Polls in any split (a poll may even come twice); hours and zones by store, since a batch
    of them replaces what the stores it names had; special hours by (store, date), likewise."""
    if not rows:
        return []
    if kind == "polls":
        cuts = sorted(draw(st.lists(st.integers(0, len(rows)), max_size=4)))
        parts = [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]
        again = draw(st.lists(st.sampled_from(rows), max_size=3))
        return [(kind, part) for part in [*parts, again] if part]
    by_store: dict[tuple, list[tuple]] = {}
    for row in rows:
        by_store.setdefault(row[:2] if kind == "special_hours" else row[:1], []).append(row)
    groups = draw(st.permutations(list(by_store.values())))
    split = draw(st.integers(0, len(groups)))
    return [
        (kind, [row for group in part for row in group])
        for part in (groups[:split], groups[split:])
        if part
    ]


@settings(
    max_examples=examples(5),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=dataset, draw=st.data())
def test_any_split_in_any_order_equals_one_full_load(two_workspaces, data, draw):
    whole, batched = two_workspaces
    polls, hours, zones, special, as_of = rows_of(data)
    whole.load(status=polls, hours=hours, zones=zones, special=special)
    batches = (
        batches_of(draw.draw, "polls", polls)
        + batches_of(draw.draw, "hours", hours)
        + batches_of(draw.draw, "timezones", zones)
        + batches_of(draw.draw, "special_hours", special)
    )
    order = draw.draw(st.permutations(batches))
    batched.load()  # a full load of nothing: everything before it is gone
    for number, (kind, rows) in enumerate(order):
        batched.append(kind, rows, name=f"batch{number}.csv")
    assert batched.tables() == whole.tables()

    if not polls:
        return
    moments = [datetime.fromisoformat(at) for _, _, at in polls]
    if as_of and not min(moments) <= as_of <= max(moments) + REACH:
        return  # refused alike: the range rule is tested in test_property
    got = batched.report(as_of)
    assert got == whole.report(as_of)
    expected = reference.report(
        [
            reference.Poll(s, at, a == "active")
            for (s, a, _), at in zip(polls, moments, strict=True)
        ],
        [reference.Hours(s, d, reference.clock(b), reference.clock(e)) for s, d, b, e in hours],
        dict(zones),
        as_of,
        [
            reference.Special(
                s, date.fromisoformat(d), *(reference.clock(t) if t else None for t in (b, e))
            )
            for s, d, b, e in special
        ],
    )
    for store_id, figures in expected.items():
        for column, value in figures.items():
            assert got[store_id][column] == pytest.approx(value, abs=0.00501), (store_id, column)


@settings(
    max_examples=examples(4),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=dataset, keep_days=st.integers(8, 9))
def test_a_report_as_of_the_latest_poll_is_the_same_with_and_without_retention(
    two_workspaces, data, keep_days
):
    # The data's polls span ten days around its anchor: the latest poll's batch, appended with
    # retention, drops what lies before latest - 8 or 9 days that no report reads (by the weekly
    # and special hours in force). The report,
    # its outages and their summary, as of the latest poll, equal those of the same rows
    # loaded whole.
    whole, retained = two_workspaces
    polls, hours, zones, special, _ = rows_of(data)
    if not polls:
        return
    latest = max(polls, key=lambda row: datetime.fromisoformat(row[2]))
    whole.load(status=polls, hours=hours, zones=zones, special=special)
    earlier = [row for row in polls if row != latest]
    retained.load(status=earlier, hours=hours, zones=zones, special=special)
    retained.append("polls", [latest], keep_days=keep_days)
    dropped = len(whole.tables()["polls"]) - len(retained.tables()["polls"])
    event("polls dropped" if dropped else "nothing dropped")
    assert retained.report() == whole.report()
    assert retained.outages() == whole.outages()
    assert retained.outage_summary() == whole.outage_summary()


def test_a_batch_of_hours_replaces_only_the_stores_it_names(workspace):
    workspace.load(
        status=[("a", "active", "2023-01-09 15:00:00"), ("b", "active", "2023-01-09 15:00:00")],
        hours=[("a", 0, "09:00", "17:00"), ("a", 1, "09:00", "17:00"), ("b", 0, "10:00", "11:00")],
    )
    result = workspace.append("hours", [("a", 2, "08:00", "09:00"), ("a", 9, "08:00", "09:00")])
    assert (result.rows_read, result.kept, result.rejected) == (2, 1, 1)
    [why] = result.rejected_by_reason
    assert (why.reason, why.rows, why.line) == ("day outside 0-6", 1, 3)
    assert why.example() == 'line 3: day "9" is not a whole number from 0 (Monday) to 6 (Sunday)'

    assert workspace.tables()["business_hours"] == [
        ("a", 2, *workspace.query("SELECT TIME '08:00', TIME '09:00'")[0]),
        ("b", 0, *workspace.query("SELECT TIME '10:00', TIME '11:00'")[0]),
    ]
    rejected = workspace.query(
        "SELECT source, line, reason, batch_id FROM rejected_rows WHERE batch_id = ?",
        [result.batch_id],
    )
    assert rejected == [("business_hours", 3, "day outside 0-6", result.batch_id)]


def test_polls_at_one_instant_count_once_inactive_winning_across_batches(workspace):
    workspace.load(status=[("a", "active", "2023-01-09 15:00:00")])
    first = workspace.append("polls", [("a", "inactive", "2023-01-09 15:00:00")], name="1.csv")
    second = workspace.append("polls", [("a", "active", "2023-01-09 15:00:00")], name="2.csv")
    assert (first.kept, first.duplicates) == (0, 1)
    assert (second.kept, second.duplicates) == (0, 1)
    assert workspace.query("SELECT active FROM polls") == [(False,)]


def test_the_same_batch_again_changes_nothing(workspace):
    workspace.load(status=[("a", "active", "2023-01-09 15:00:00")])
    rows = [("a", "inactive", "2023-01-09 16:00:00"), ("a", "bogus", "2023-01-09 17:00:00")]
    first = workspace.append("polls", rows, name="1.csv")
    again = workspace.append("polls", rows, name="2.csv")
    assert not first.repeated and again.repeated and again.batch_id == first.batch_id
    assert workspace.query("SELECT count(*) FROM batches WHERE kind = 'append'") == [(1,)]
    assert workspace.query(
        "SELECT count(*) FROM rejected_rows WHERE reason = 'unknown status'"
    ) == [(1,)]
    keyed = workspace.append(
        "polls", [("a", "active", "2023-01-09 18:00:00")], name="3.csv", idempotency_key="k1"
    )
    again = workspace.append(
        "polls", [("a", "active", "2023-01-09 18:00:00")], name="3b.csv", idempotency_key="k1"
    )
    assert again.repeated and again.batch_id == keyed.batch_id
    # A key names one batch: with other content, or for another kind, it is refused, and the
    # new rows are not silently taken for a repeat.
    with pytest.raises(KeyReused, match="sent before with other content"):
        workspace.append(
            "polls", [("a", "active", "2023-01-09 19:00:00")], name="4.csv", idempotency_key="k1"
        )
    with pytest.raises(KeyReused, match="sent before with a batch of polls"):
        workspace.append("timezones", [("a", "UTC")], name="5.csv", idempotency_key="k1")
    assert workspace.query("SELECT count(*) FROM polls") == [(3,)]


def test_an_older_hours_batch_sent_again_is_a_change_back(workspace):
    workspace.load(status=[("a", "active", "2023-01-09 15:00:00")])
    old = [("a", 0, "09:00", "17:00")]
    workspace.append("hours", old, name="1.csv")
    workspace.append("hours", [("a", 0, "10:00", "11:00")], name="2.csv")
    back = workspace.append("hours", old, name="3.csv")
    assert not back.repeated
    assert workspace.query("SELECT start_local::VARCHAR FROM business_hours") == [("09:00:00",)]


def test_a_bad_batch_changes_nothing(workspace, tmp_path):
    workspace.load(status=[("a", "active", "2023-01-09 15:00:00")])
    before = workspace.tables()
    bad = tmp_path / "bad.csv"
    bad.write_text("store_id,status\na,active\n")
    with pytest.raises(StoremonError, match="has no column"):
        append_batch(workspace.con, "polls", bad)
    assert workspace.tables() == before


@pytest.mark.parametrize("kind", ["polls", "hours", "timezones"])
def test_a_batch_with_rows_none_of_them_usable_is_refused_unless_allowed(workspace, kind):
    workspace.load(
        status=[("a", "active", "2023-01-09 15:00:00")],
        hours=[("a", 0, "09:00", "17:00")],
        zones=[("a", "UTC")],
    )
    before = workspace.tables()
    batches = workspace.query("SELECT count(*) FROM batches")
    rows = {
        "polls": [("a", "actve", "2023-01-09 16:00:00"), ("a", "active", "2023-01-09 25:00")],
        "hours": [("a", 1, "0.00.00", "0.00.00"), ("a", 7, "09:00", "10:00")],
        "timezones": [("a", "US/Nowhere"), ("", "UTC")],
    }[kind]
    with pytest.raises(StoremonError) as caught:
        workspace.append(kind, rows)
    message = str(caught.value)
    assert "batch.csv has 2 rows and none of them is usable: 1 x " in message, message
    assert "(e.g. line 2: " in message and "and 1 other rejected rows; nothing was appended" in (
        message
    )
    assert workspace.tables() == before
    assert workspace.query("SELECT count(*) FROM batches") == batches
    assert workspace.query("SELECT count(*) FROM rejected_rows WHERE batch_id IS NOT NULL") == [
        (0,)
    ]
    result = workspace.append(kind, rows, allow_empty=True)
    assert (result.rows_read, result.kept, result.rejected) == (2, 0, 2)
    assert workspace.tables() == before
    # A batch of no rows at all adds nothing and is taken: a poller may have nothing new.
    assert workspace.append(kind, [], name="empty.csv").rows_read == 0


@pytest.mark.parametrize(
    ("media", "body", "ok"),
    [
        ("application/json", b"\x0c", False),  # a form feed: not JSON's blank
        ("application/json", b"", False),
        ("application/json", b" [ ] ", True),
        ("application/x-ndjson", b"\x0c", False),
        ("application/x-ndjson", b"\n", True),
    ],
)
def test_a_json_body_without_objects_is_an_empty_batch_only_if_it_says_so(
    media, body, ok, tmp_path
):
    path = tmp_path / "body"
    path.write_bytes(body)
    with ExitStack() as scratch:
        if ok:
            csv_path, _ = as_csv(path, media, "polls", scratch)
            assert csv_path.read_text() == "store_id,status,timestamp_utc\n"
        else:
            with pytest.raises(StoremonError, match="the body is not"):
                as_csv(path, media, "polls", scratch)


def test_retention_drops_polls_older_than_the_window(workspace):
    # Open 24x7: every poll is evidence. Retention keeps, of the polls before the cutoff, the
    # store's latest (its span reaches into the week).
    workspace.load(status=[("a", "active", "2023-01-01 12:00:00")])
    with pytest.raises(StoremonError, match="at least 8"):
        workspace.append("polls", [], keep_days=7)

    def kept() -> list[str]:
        rows = workspace.query("SELECT strftime(timestamp_utc, '%m-%d %H') FROM polls ORDER BY 1")
        return [row[0] for row in rows]

    workspace.append("polls", [("a", "active", "2023-01-09 11:00:00")], name="1.csv", keep_days=8)
    assert kept() == ["01-01 12", "01-09 11"]  # 8 days before 01-09 11:00 is 01-01 11:00
    workspace.append("polls", [("a", "active", "2023-01-10 12:00:00")], name="2.csv", keep_days=8)
    assert kept() == ["01-01 12", "01-09 11", "01-10 12"]  # the latest before 01-02 12:00
    workspace.append("polls", [("a", "active", "2023-01-17 12:00:00")], name="3.csv", keep_days=8)
    assert kept() == ["01-09 11", "01-10 12", "01-17 12"]


def test_retention_keeps_what_a_report_as_of_the_latest_poll_reads(workspace, tmp_path):
    # Open Mondays 09-17 (UTC). Before the cutoff (01-23 12:00 - 8 days = 01-15 12:00): a
    # closed-time poll, an active and two inactive evidence polls, then a poll while closed.
    # Kept: the inactive run from the last active evidence poll on (the outage's polls), and
    # the latest poll of all (the store has a report row); dropped: what no report reads.
    status = [
        ("a", "active", "2023-01-02 08:00:00"),  # closed: dropped
        ("a", "active", "2023-01-02 10:00:00"),  # evidence before the last active: dropped
        ("a", "active", "2023-01-09 10:00:00"),  # the last active evidence poll: kept
        ("a", "inactive", "2023-01-09 12:00:00"),  # kept
        ("a", "inactive", "2023-01-09 14:00:00"),  # kept
        ("a", "active", "2023-01-09 20:00:00"),  # closed, the latest before the cutoff: kept
        ("b", "active", "2023-01-03 08:00:00"),  # closed, b's latest: kept, for b's row
        ("b", "active", "2023-01-02 07:00:00"),  # dropped
    ]
    later = [("a", "inactive", "2023-01-23 12:00:00")]
    hours = [("a", 0, "09:00", "17:00"), ("b", 0, "09:00", "17:00")]
    zones = [("a", "UTC"), ("b", "UTC")]
    workspace.load(status=status, hours=hours, zones=zones)
    workspace.append("polls", later, keep_days=8)
    assert workspace.query(
        "SELECT store_id, strftime(timestamp_utc, '%m-%d %H') FROM polls JOIN stores "
        "USING (store_key) ORDER BY ALL"
    ) == [
        ("a", "01-09 10"),
        ("a", "01-09 12"),
        ("a", "01-09 14"),
        ("a", "01-09 20"),
        ("a", "01-23 12"),
        ("b", "01-03 08"),
    ]
    (tmp_path / "whole").mkdir()
    whole = Workspace(tmp_path / "whole")
    try:
        whole.load(status=status + later, hours=hours, zones=zones)
        assert workspace.report() == whole.report()
        assert workspace.outages() == whole.outages()
        assert workspace.outage_summary() == whole.outage_summary()
        [outage] = workspace.outages()["a"]
        assert (outage["polls"], outage["began_before_week"], outage["ongoing"]) == (3, True, True)
    finally:
        whole.con.close()


def test_the_batch_log_forgets_old_batches_with_their_keys_and_rejected_rows(workspace):
    # 5,000 tiny appends used to leave 5,000 rows, keys and rejected rows behind for ever. The
    # log remembers the newest N (forgetting once a tenth more have come) and the last D days;
    # the data they brought stays, and the load's rows stay.
    workspace.load(
        status=[("a", "bogus", "2023-01-09 15:00:00"), ("a", "active", "2023-01-09 15:00:00")]
    )
    keep = BatchRetention(keep=10, days=None)

    def append(n: int):
        return workspace.append(
            "polls",
            [
                ("a", "active", f"2023-01-10 {n:02d}:00:00"),
                (f"x{n}", "bogus", "2023-01-10 00:00:00"),
            ],
            name=f"{n}.csv",
            idempotency_key=f"key-{n}",
            batch_retention=keep,
        )

    for n in range(11):
        append(n)
    remembered = "SELECT count(*) FROM batches WHERE kind = 'append'"
    assert workspace.query(remembered) == [(11,)]  # within the slack: nothing forgotten yet
    append(11)
    assert workspace.query(remembered) == [(10,)]
    keys = workspace.query("SELECT idempotency_key FROM batches WHERE kind = 'append' ORDER BY 1")
    assert [k for (k,) in keys] == sorted(f"key-{n}" for n in range(2, 12))
    # The forgotten batches' rejected rows went with them; the load's stay.
    rejected = workspace.query(
        "SELECT coalesce(b.kind, 'gone'), count(*) FROM rejected_rows r "
        "LEFT JOIN (SELECT DISTINCT batch_id, kind FROM batches) b USING (batch_id) "
        "GROUP BY 1 ORDER BY 1"
    )
    assert rejected == [("append", 10), ("load", 1)]
    assert workspace.query("SELECT count(*) FROM polls") == [(13,)]  # the data stays
    # A forgotten key is a new batch; a remembered one is still a repeat.
    assert not append(0).repeated and append(11).repeated
    # By age: batches received more than D days ago are forgotten (an hour's slack).
    workspace.con.execute(
        "UPDATE batches SET received_at = received_at - INTERVAL 40 DAY "
        "WHERE idempotency_key IN ('key-2', 'key-3')"
    )
    with workspace.con.cursor() as cur:
        assert forget_old_batches(cur, BatchRetention(keep=None, days=30)) == 2
        assert forget_old_batches(cur, BatchRetention(keep=None, days=30)) == 0
    assert workspace.query(remembered) == [(9,)]
    assert workspace.query("SELECT count(*) FROM batches WHERE kind = 'load'") == [(3,)]


def test_appending_to_an_empty_database_makes_its_tables(tmp_path):
    workspace = Workspace(tmp_path)
    try:
        result = workspace.append("polls", [("a", "active", "2023-01-09 15:00:00")])
        assert result.kept == 1
        assert workspace.report()["a"]["uptime_last_hour"] == 60.0
    finally:
        workspace.con.close()


def test_a_store_id_with_control_characters_is_rejected_as_a_full_load_does(workspace):
    workspace.load(status=[("a", "active", "2023-01-09 15:00:00")])
    result = workspace.append(
        "polls",
        [("b\x00c", "active", "2023-01-09 16:00:00"), ("a", "active", "2023-01-09 16:00:00")],
    )
    assert (result.kept, result.rejected) == (1, 1)
    assert [(r.reason, r.rows) for r in result.rejected_by_reason] == [
        ("store_id has control characters", 1)
    ]
    raw, detail = workspace.query(
        "SELECT raw, detail FROM rejected_rows WHERE batch_id = ?", [result.batch_id]
    )[0]
    assert raw == "b\x00c,active,2023-01-09 16:00:00"
    assert (
        detail
        == 'store_id "b\\x00c" has control characters (shown as \\xNN); they are not part of any id'
    )
    assert workspace.query("SELECT store_id FROM stores ORDER BY 1") == [("a",)]


def test_a_database_loaded_before_batches_existed_takes_appends(workspace):
    workspace.load(status=[("a", "active", "2023-01-09 15:00:00")])
    workspace.con.execute("DROP TABLE batches")  # as a load made before storemon kept them
    workspace.con.execute("ALTER TABLE rejected_rows DROP COLUMN batch_id")
    result = workspace.append(
        "polls", [("a", "active", "2023-01-09 16:00:00"), ("a", "bogus", "2023-01-09 17:00:00")]
    )
    assert (result.kept, result.rejected) == (1, 1)
    assert workspace.query("SELECT kind, source, batch_id IS NULL FROM batches ORDER BY ALL") == [
        ("append", "polls", False),
        ("load", "business_hours", True),
        ("load", "polls", True),
        ("load", "timezones", True),
    ]
