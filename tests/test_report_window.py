"""sql/README.md, rule 1: a report may be asked for as of an instant from the first poll
to the latest poll + 7 days, both included; any other is refused by sql/report/01_report_window.sql
(so by every way of running the report), with the range that would be accepted."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from storemon.errors import StoremonError
from tests.server import ROOT
from tests.test_analyst import SHELL

FIRST = datetime(2023, 1, 2, 12, 0, tzinfo=UTC)
LATEST = datetime(2023, 1, 5, 8, 30, 0, 250000, tzinfo=UTC)
RANGE = "choose an instant from 2023-01-02 12:00:00+00 to 2023-01-12 08:30:00.25+00 (UTC)"
US = timedelta(microseconds=1)


@pytest.fixture
def loaded(workspace):
    workspace.load(
        status=[
            ("s1", "active", FIRST.strftime("%Y-%m-%d %H:%M:%S.%f")),
            ("s2", "inactive", LATEST.strftime("%Y-%m-%d %H:%M:%S.%f")),
        ]
    )
    return workspace


def test_as_of_from_the_first_poll_to_the_latest_plus_7_days_both_included(loaded):
    assert list(loaded.report(as_of=FIRST)) == ["s1"]
    assert list(loaded.report(as_of=LATEST + timedelta(days=7))) == ["s1", "s2"]
    assert list(loaded.report()) == ["s1", "s2"]


@pytest.mark.parametrize(
    ("as_of", "shown"),
    [
        (FIRST - US, "2023-01-02 11:59:59.999999+00"),
        (LATEST + timedelta(days=7) + US, "2023-01-12 08:30:00.250001+00"),
        (datetime(2100, 1, 1, tzinfo=UTC), "2100-01-01 00:00:00+00"),
        (datetime(1970, 1, 1, tzinfo=UTC), "1970-01-01 00:00:00+00"),
    ],
)
def test_any_other_as_of_is_refused_with_the_allowed_range(loaded, as_of, shown):
    loaded.con.execute("SET TimeZone = 'Asia/Kolkata'")  # the message is in UTC all the same
    with pytest.raises(StoremonError) as refused:
        loaded.report(as_of=as_of)
    assert f"as_of {shown} is outside the loaded polls: {RANGE}" in str(refused.value)


def test_with_no_polls_loaded_no_as_of_is_accepted(workspace):
    workspace.load(hours=[("s1", 0, "09:00", "17:00")])
    assert workspace.report() == {}
    with pytest.raises(StoremonError, match="no polls are loaded"):
        workspace.report(as_of=FIRST)


def test_the_duckdb_shell_refuses_it_too(loaded):
    loaded.con.close()  # the shell opens the file itself
    done = subprocess.run(
        [
            str(SHELL), "-bail", "-readonly", str(loaded.db),
            "-c", "SET VARIABLE as_of = TIMESTAMPTZ '2100-01-01 00:00:00+00'",
            "-c", ".read sql/report.sql",
        ],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert f"as_of 2100-01-01 00:00:00+00 is outside the loaded polls: {RANGE}" in done.stderr
