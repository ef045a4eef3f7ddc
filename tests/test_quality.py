"""Say what the data means: the load's data-quality findings and a report's notes, from small
files shaped like the ones people really have (spreadsheet-damaged ids, hours on days the polls
never touch)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import HOURS_HEADER, STATUS_HEADER, ZONES_HEADER, examples, write_csv
from tests.server import in_process
from tests.test_cli import storemon

NY = "America/New_York"


def findings(workspace) -> dict[str, tuple]:
    rows = workspace.query("SELECT finding, count, examples FROM data_quality")
    return {finding: (count, examples) for finding, count, examples in rows}


def test_every_check_is_listed_even_when_it_finds_nothing(workspace):
    workspace.load(
        status=[("s1", "active", "2023-01-09 15:00:00")],
        hours=[("s1", 0, "09:00", "17:00")],
        zones=[("s1", NY)],
    )
    assert findings(workspace) == {
        "business-hours rows of stores without polls": (0, []),
        "time-zone rows of stores without polls": (0, []),
        "polled stores without business hours": (0, []),
        "polled stores without a time zone": (0, []),
        "ids in the polls file damaged by a spreadsheet": (0, []),
        "ids in the business hours file damaged by a spreadsheet": (0, []),
        "ids in the time zones file damaged by a spreadsheet": (0, []),
        "ids in the polls file rounded by a spreadsheet": (0, []),
        "ids in the business hours file rounded by a spreadsheet": (0, []),
        "ids in the time zones file rounded by a spreadsheet": (0, []),
        "business-hours rows of days numbered 1-7": (0, []),
        "polls before the latest week": (0, []),
        "polled stores whose id has invisible or direction characters": (0, []),
        "polled stores whose id a spreadsheet would run as a formula": (0, []),
        "special-hours rows of stores without polls": (0, []),
        "special dates far from the polls": (0, []),
        "stores with more special than weekly days in the latest week": (0, []),
        "groups of stores without polls": (0, []),
        "polled stores in no group": (0, []),
    }
    assert {row[0] for row in workspace.query("SELECT meaning FROM data_quality")} != {""}


def test_ids_a_spreadsheet_damaged_are_named_and_left_as_they_are(workspace):
    """Polls say 257000000000000.0, hours and zones 2.57E+14: nothing matches, and it says so."""
    workspace.load(
        status=[("257000000000000.0", "active", "2023-01-09 15:00:00")],
        hours=[("2.57E+14", day, "09:00", "17:00") for day in range(7)],
        zones=[("2.57E+14", NY)],
    )
    found = findings(workspace)
    assert found["ids in the polls file damaged by a spreadsheet"] == (1, ["257000000000000.0"])
    assert found["ids in the business hours file damaged by a spreadsheet"] == (1, ["2.57E+14"])
    assert found["ids in the time zones file damaged by a spreadsheet"] == (1, ["2.57E+14"])
    assert found["business-hours rows of stores without polls"] == (7, ["2.57E+14"])
    assert found["time-zone rows of stores without polls"] == (1, ["2.57E+14"])
    assert found["polled stores without business hours"] == (1, ["257000000000000.0"])
    assert found["polled stores without a time zone"] == (1, ["257000000000000.0"])
    ids = {row[0] for row in workspace.query("SELECT store_id FROM stores")}
    assert ids == {"257000000000000.0", "2.57E+14"}  # opaque text: nothing "repaired"
    meaning = workspace.query(
        "SELECT meaning FROM data_quality WHERE finding LIKE 'ids in the polls%'"
    )[0][0]
    assert "lost digits" in meaning and "export the store_id column as text" in meaning


def spreadsheet_rounded(store_id: str) -> str:
    """What a spreadsheet shows of a long numeric id once it took it for a number: its first 15
    digits, the rest zeros (Excel keeps 15 significant digits and drops the others)."""
    return store_id[:15] + "0" * (len(store_id) - 15)


def test_one_real_id_that_ends_in_zeros_is_not_taken_for_a_rounded_one(workspace):
    assert spreadsheet_rounded("8139926242460185114") == "8139926242460180000"
    ids = ["8139926242460185114", "1481966498820158979", "1000000000000000000"]
    workspace.load(status=[(i, "active", "2023-01-09 15:00:00") for i in ids])
    assert findings(workspace)["ids in the polls file rounded by a spreadsheet"] == (0, [])


@settings(
    max_examples=examples(6),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    ids=st.lists(st.integers(10**15, 10**19 - 1).map(str), min_size=1, max_size=12, unique=True),
    damaged=st.sampled_from(["polls", "hours", "zones", None]),
)
def test_ids_a_spreadsheet_rounded_are_named_per_file(workspace, ids, damaged):
    # Real ids, in every file; one file (or none) has them as a spreadsheet rounded them, padded
    # with blanks as some exports do. A file is named when at least half of its ids of 16 digits
    # or more end in zeros past the 15th, with those ids: so the damaged file always is, and a
    # file of real ids only when chance made half of them look rounded.
    spelled = {
        name: [spreadsheet_rounded(i) + "    " if name == damaged else i for i in ids]
        for name in ("polls", "hours", "zones")
    }
    workspace.load(
        status=[(i, "active", "2023-01-09 15:00:00") for i in spelled["polls"]],
        hours=[(i, 0, "09:00", "17:00") for i in spelled["hours"]],
        zones=[(i, NY) for i in spelled["zones"]],
    )
    found = findings(workspace)
    label = {"polls": "polls", "hours": "business hours", "zones": "time zones"}
    for name, spelling in label.items():
        got = found[f"ids in the {spelling} file rounded by a spreadsheet"]
        stored = sorted({i.strip() for i in spelled[name]})
        looking_rounded = [i for i in stored if re.fullmatch(r"[1-9][0-9]{14}0+", i)]
        named = looking_rounded if 2 * len(looking_rounded) >= len(stored) else []
        assert got == (len(named), named[:5]), (name, got)
        if name == damaged:
            assert got[0] == len(stored) > 0
    meaning = workspace.query(
        "SELECT meaning FROM data_quality WHERE finding = 'ids in the polls file rounded by a "
        "spreadsheet'"
    )[0][0]
    assert "15th digit" in meaning and "export the store_id column as text" in meaning


@settings(
    max_examples=examples(6),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    days=st.sets(st.integers(1, 7), min_size=1).map(sorted),
    with_day_zero=st.booleans(),
    batch=st.booleans(),
)
def test_days_numbered_1_to_7_are_named_as_such(workspace, days, with_day_zero, batch):
    # A week numbered 1 (Monday) to 7 (Sunday): day 7 is rejected as outside 0-6, and when the
    # file has no day 0 both the rejected rows and data_quality say what the numbering means.
    rows = [("s1", day, "09:00", "17:00") for day in days + ([0] if with_day_zero else [])]
    if batch:
        workspace.load(status=[("s1", "active", "2023-01-09 15:00:00")])
        result = workspace.append("hours", rows, allow_empty=True)  # [7] alone: none usable
        reasons: list = result.rejected_by_reason
    else:
        reasons = workspace.load(
            status=[("s1", "active", "2023-01-09 15:00:00")], hours=rows
        ).rejected
    sevens = 7 in days
    assert [(r.reason, r.rows) for r in reasons] == ([("day outside 0-6", 1)] if sevens else [])
    count, files = findings(workspace)["business-hours rows of days numbered 1-7"]
    if sevens and not with_day_zero:
        assert count == 1 and len(files) == 1
        assert "its days look numbered 1 (Monday) to 7 (Sunday)" in reasons[0].example()
    else:
        assert (count, files) == (0, [])
        assert all("look numbered" not in r.example() for r in reasons)


def test_polls_before_the_latest_week_are_counted(workspace):
    workspace.load(
        status=[
            ("s1", "active", "2023-01-01 12:00:00"),
            ("s1", "active", "2023-01-02 12:00:00"),
            ("s1", "inactive", "2023-01-20 12:00:00"),
        ],
    )
    assert findings(workspace)["polls before the latest week"] == (2, [])


def test_a_store_whose_polls_never_fall_in_its_hours_gets_zeros_and_a_note(workspace):
    """Hours only on Sundays, polls only on weekdays: zeros, and the report says why."""
    workspace.load(
        status=[
            ("s1", "active", "2023-01-09 15:00:00"),  # a Monday
            ("s1", "inactive", "2023-01-10 15:00:00"),
            ("s2", "active", "2023-01-10 15:00:00"),
        ],
        hours=[("s1", 6, "09:00", "17:00"), ("s2", 1, "09:00", "17:00")],
        zones=[("s1", NY), ("s2", NY)],
    )
    report = workspace.report(as_of=datetime(2023, 1, 11, tzinfo=UTC))
    assert set(report["s1"].values()) == {0.0}
    assert report["s2"]["uptime_last_week"] == 8.0
    assert workspace.notes() == {
        "no poll inside business hours": (1, ["s1"]),
        "no business time in the week": (0, []),
        "special hours in the week": (0, []),
    }


def test_a_store_with_evidence_but_no_business_time_in_the_week_is_noted_apart(workspace):
    """Open only Sundays 02:30-03:00 in New York: on the spring-forward Sunday that interval is
    empty, so a week whose one Sunday is that one has no business time at all."""
    workspace.load(
        status=[
            ("s1", "active", "2023-03-05 07:45:00"),  # Sunday 02:45 EST: evidence
            ("s1", "inactive", "2023-03-12 12:00:00"),  # Sunday 08:00 EDT: closed, says nothing
        ],
        hours=[("s1", 6, "02:30", "03:00")],
        zones=[("s1", NY)],
    )
    assert set(workspace.report()["s1"].values()) == {0.0}
    notes = dict(workspace.query("SELECT finding, stores FROM report_notes"))
    assert notes == {
        "no poll inside business hours": 0,
        "no business time in the week": 1,
        "special hours in the week": 0,
    }


def shaped_files(folder):
    """A polls file with spreadsheet-damaged ids, and hours on days the polls never touch."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        "--status",
        str(
            write_csv(
                folder / "store_status.csv",
                STATUS_HEADER,
                [
                    ("257000000000000.0", "active", "2023-01-09 15:00:00"),
                    ("s2", "active", "2023-01-09 15:00:00"),
                ],
            )
        ),
        "--hours",
        str(
            write_csv(
                folder / "menu_hours.csv",
                HOURS_HEADER,
                [("2.57E+14", 0, "09:00", "17:00"), ("s2", 6, "09:00", "17:00")],
            )
        ),
        "--timezones",
        str(write_csv(folder / "timezones.csv", ZONES_HEADER, [("2.57E+14", NY), ("s2", NY)])),
    ]


def test_the_cli_says_what_the_data_means(tmp_path):
    db = tmp_path / "s.duckdb"
    loaded = storemon("ingest", "--db", str(db), *shaped_files(tmp_path / "in"))
    assert loaded.returncode == 0, loaded.stderr
    assert "warning: 1 ids in the polls file damaged by a spreadsheet (e.g. 257000000000000.0)" in (
        loaded.stdout
    )
    assert "warning: 1 polled stores without business hours" in loaded.stdout
    assert "counted as open 24 hours a day, 7 days a week" in loaded.stdout
    reported = storemon("report", "--db", str(db), "--out", str(tmp_path / "r.csv"))
    assert reported.returncode == 0, reported.stderr
    assert "note: 1 stores with no poll inside business hours (e.g. s2)" in reported.stdout
    assert "zeros in every column" in reported.stdout


def test_the_service_says_it_too(tmp_path):
    db = tmp_path / "s.duckdb"
    assert storemon("ingest", "--db", str(db), *shaped_files(tmp_path / "in")).returncode == 0
    with in_process(db) as server:
        health = server.json("GET", "/health")[1]
        assert health["data_quality_url"] == "/data_quality"
        code, quality = server.json("GET", health["data_quality_url"])
        assert code == 200
        found = {f["finding"]: f for f in quality["findings"]}
        assert found["ids in the polls file damaged by a spreadsheet"]["examples"] == [
            "257000000000000.0"
        ]
        assert {f["source"] for f in quality["files"]} == {"polls", "business_hours", "timezones"}
        report_id = server.trigger()
        assert server.wait(report_id)[0] == 200
        notes = server.json("GET", f"/get_report/{report_id}")[1]["notes"]
        assert {
            "finding": "no poll inside business hours",
            "stores": 1,
            "examples": ["s2"],
        }.items() <= (notes[1].items())
        # Loading through the service answers with the findings as well.
        body = dict(
            zip(
                ("status", "hours", "timezones"),
                shaped_files(tmp_path / "again")[1::2],
                strict=True,
            )
        )
        code, answer = server.json("POST", "/ingest", body, headers=server.authorized())
        assert code == 200
        assert any(f["count"] and "damaged" in f["finding"] for f in answer["quality"])
