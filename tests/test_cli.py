"""The command line as a user runs it: real processes, real files."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from storemon.report import COLUMNS
from tests.conftest import HOURS_HEADER, STATUS_HEADER, ZONES_HEADER, write_csv
from tests.server import serving

ROOT = Path(__file__).resolve().parent.parent


def storemon(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "storemon", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=120,
    )


@pytest.fixture
def inputs(tmp_path: Path) -> list[str]:
    status = write_csv(
        tmp_path / "store_status.csv",
        STATUS_HEADER,
        [
            ("1481966498820158979", "active", "2023-01-09 16:14:00.000000 UTC"),
            ("1481966498820158979", "inactive", "2023-01-09 17:15:00 UTC"),
            ("0b49452d-46d4-43f3-9450-281c6c6f7633", "active", "2023-01-09 16:00:00 UTC"),
            ("1481966498820158979", "maybe", "2023-01-09 16:20:00 UTC"),
        ],
    )
    hours = write_csv(
        tmp_path / "menu_hours.csv", HOURS_HEADER, [("1481966498820158979", 0, "09:00", "12:00")]
    )
    zones = write_csv(
        tmp_path / "timezones.csv", ZONES_HEADER, [("1481966498820158979", "America/Chicago")]
    )
    return ["--status", status, "--hours", hours, "--timezones", zones]


def test_ingest_then_report_writes_the_spec_csv(tmp_path, inputs):
    db, out = tmp_path / "db" / "s.duckdb", tmp_path / "out" / "report.csv"
    loaded = storemon("ingest", "--db", db, *inputs)
    assert loaded.returncode == 0, loaded.stderr
    assert (
        'rejected polls: 1 x unknown status (e.g. line 5: status "maybe" is neither active nor '
        "inactive)" in loaded.stdout
    )
    assert "2 stores loaded" in loaded.stdout

    made = storemon("report", "--db", db, "--out", out, "--as-of", "2023-01-09 19:00:00")
    assert made.returncode == 0, made.stderr
    assert f"wrote 2 stores to {out}" in made.stdout
    assert "as of 2023-01-09 19:00:00" in made.stdout
    with out.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(COLUMNS)
    # The worked example, in Chicago (polls 10:14 and 11:15 CST): up 1.74 h, down 1.26 h; the
    # last hour (12:00-13:00 CST) is closed. The UUID store has no hours (24x7) and one active
    # poll, which stands for all time: 60 minutes, 24 and 168 hours up.
    assert rows[1:] == [
        [
            "0b49452d-46d4-43f3-9450-281c6c6f7633",
            "60.00",
            "24.00",
            "168.00",
            "0.00",
            "0.00",
            "0.00",
        ],
        ["1481966498820158979", "0.00", "1.74", "1.74", "0.00", "1.26", "1.26"],
    ]
    assert out.read_bytes().count(b"\r") == 0


def test_report_defaults_to_the_latest_poll(tmp_path, inputs):
    db, out = tmp_path / "s.duckdb", tmp_path / "r.csv"
    storemon("ingest", "--db", db, *inputs)
    made = storemon("report", "--db", db, "--out", out)
    assert "as of 2023-01-09 17:15:00" in made.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--db", "{tmp}/none.duckdb", "--out", "{tmp}/r.csv"], "no database at"),
        (
            ["report", "--db", "{tmp}/s.duckdb", "--out", "{tmp}/r.csv", "--as-of", "yesterday"],
            '--as-of "yesterday" is not an instant',
        ),
        (
            [
                "ingest",
                "--db",
                "{tmp}/s.duckdb",
                "--status",
                "{tmp}/nope.csv",
                "--hours",
                "{tmp}/nope.csv",
                "--timezones",
                "{tmp}/nope.csv",
            ],
            "no such file",
        ),
    ],
)
def test_errors_are_one_clear_line_and_exit_2(tmp_path, inputs, args, message):
    storemon("ingest", "--db", tmp_path / "s.duckdb", *inputs)
    failed = storemon(*[a.format(tmp=tmp_path) for a in args])
    assert failed.returncode == 2
    assert failed.stderr.startswith("storemon: error: ")
    assert message in failed.stderr
    assert "Traceback" not in failed.stderr


def test_report_before_any_load_says_what_to_do(tmp_path):
    storemon_db = tmp_path / "empty.duckdb"
    subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect('{storemon_db}').close()"],
        check=True,
    )
    failed = storemon("report", "--db", storemon_db, "--out", tmp_path / "r.csv")
    assert failed.returncode == 2
    assert "run `storemon ingest` first" in failed.stderr


def test_demo_loads_the_bundled_data_and_serves_it(tmp_path):
    # The README's first command ends in `storemon demo`: from a checkout's data/ folder it
    # loads the sample into an empty database and serves it; the printed curl lines work.
    work = tmp_path / "checkout"
    # (not the bench's data sets, gigabytes in data/bench/ once `just bench` has run)
    shutil.copytree(
        ROOT / "data", work / "data", ignore=shutil.ignore_patterns("*.duckdb*", "reports", "bench")
    )
    with serving(Path("data/storemon.duckdb"), command="demo", cwd=work) as server:
        printed = server.log.read_text()
        # The pages' address comes first, and it answers with the overview.
        assert printed.splitlines()[0] == (
            f"storemon: open {server.url}/ui/ in a browser (the pages), or use the API below"
        )
        assert b"<h1>Store uptime</h1>" in server.request("GET", "/ui/", accept="text/html")[2]
        assert "rejected polls" in printed  # the sample carries a few unreadable rows on purpose
        assert f"curl -s -X POST {server.url}/trigger_report" in printed
        code, _, content = server.wait(server.trigger())
        report_id = server.json("GET", "/reports")[1][0]["report_id"]
        code_rollups, _, rollups = server.request("GET", f"/reports/{report_id}/rollups.csv")
    assert code == 200
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert len(rows) == 300
    # the sample's groups and special hours are loaded too: owner:o0001 has 60 stores
    assert code_rollups == 200
    groups = {row["group"]: row for row in csv.DictReader(io.StringIO(rollups.decode()))}
    assert groups["owner:o0001"]["stores"] == "60"
    assert "special_hours" in printed and "store_groups" in printed
    assert [r["store_id"] for r in rows] == sorted(r["store_id"] for r in rows)
    # A second start finds the data already there and serves it as it is.
    with serving(Path("data/storemon.duckdb"), command="demo", cwd=work) as server:
        assert "already holds data" in server.log.read_text()


def test_generate_is_deterministic(tmp_path):
    for folder in ("a", "b"):
        made = storemon(
            "generate", "--out", tmp_path / folder, "--stores", 40, "--days", 2, "--seed", 7
        )
        assert made.returncode == 0, made.stderr
    for name in (
        "store_status.csv",
        "menu_hours.csv",
        "timezones.csv",
        "special_hours.csv",
        "store_groups.csv",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "store_status.csv").read_text().count("\n") > 40 * 2 * 24 * 0.9


def test_a_header_only_file_is_refused_unless_allow_empty(tmp_path, inputs):
    db, out = tmp_path / "s.duckdb", tmp_path / "r.csv"
    assert storemon("ingest", "--db", db, *inputs).returncode == 0
    empty = tmp_path / "empty.csv"
    empty.write_text("store_id,status,timestamp_utc\n\n")
    args = ["--status", empty, *inputs[2:]]
    refused = storemon("ingest", "--db", db, *args)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"storemon: error: polls (store_status.csv): {empty} has a header and no rows: nothing "
        "was loaded; pass --allow-empty to load it anyway\n"
    )
    assert "wrote 2 stores" in storemon("report", "--db", db, "--out", out).stdout  # unchanged
    loaded = storemon("ingest", "--db", db, *args, "--allow-empty")
    assert loaded.returncode == 0, loaded.stderr
    assert f"(0 rows in {empty})" in loaded.stdout
    assert "wrote 0 stores" in storemon("report", "--db", db, "--out", out).stdout


def test_a_file_with_rows_none_of_them_usable_is_refused_on_load_and_append(tmp_path, inputs):
    db, out = tmp_path / "s.duckdb", tmp_path / "r.csv"
    assert storemon("ingest", "--db", db, *inputs).returncode == 0
    dummy = tmp_path / "dummy.csv"
    dummy.write_text("store_id,status,timestamp_utc\n\n### this is dummy file\n")
    refused = storemon("ingest", "--db", db, "--status", dummy, *inputs[2:])
    assert refused.returncode == 2
    assert refused.stderr == (
        f"storemon: error: polls (store_status.csv): {dummy} has 1 row and none of them is "
        'usable: 1 x wrong number of fields (e.g. line 3: "### this is dummy file": expected 3 '
        "fields as in the header, found 1); nothing was loaded (the previous data stays). Fix the "
        "file, or pass --allow-empty (API: allow_empty) to use it anyway\n"
    )
    appended = storemon("append", "--db", db, "--polls", dummy)
    assert appended.returncode == 2
    assert "none of them is usable" in appended.stderr and "nothing was appended" in (
        appended.stderr
    )
    assert "wrote 2 stores" in storemon("report", "--db", db, "--out", out).stdout  # unchanged
    allowed = storemon("append", "--db", db, "--polls", dummy, "--allow-empty")
    assert allowed.returncode == 0, allowed.stderr
    assert "1 rejected" in allowed.stdout and '"### this is dummy file"' in allowed.stdout


@pytest.mark.parametrize("breakage", ["no_column", "not_utf8"])
def test_a_failed_first_load_leaves_no_database_behind(tmp_path, inputs, breakage):
    db = tmp_path / "new" / "folder" / "s.duckdb"
    bad = tmp_path / "bad.csv"
    if breakage == "no_column":  # refused before the database is touched
        bad.write_text("store_id,status,time\ns1,active,2023-01-09 16:00:00\n")
    else:  # fails inside the load's transaction
        bad.write_bytes(b"store_id,status,timestamp_utc\ns1,active,2023-01-09 16:00:00\ns2,\xff\n")
    args = ["--status", bad, *inputs[2:]]
    failed = storemon("ingest", "--db", db, *args)
    assert failed.returncode == 2
    assert "no column 'timestamp_utc'" in failed.stderr or "line 3 of" in failed.stderr
    assert not (tmp_path / "new").exists()  # no file, no .wal, no snapshots/, no folders
    report = storemon("report", "--db", db, "--out", tmp_path / "r.csv")
    assert f"no database at {db}: load data first" in report.stderr
    # Once a load has succeeded, a failed one leaves the file and its data as they were.
    assert storemon("ingest", "--db", db, *inputs).returncode == 0
    assert storemon("ingest", "--db", db, *args).returncode == 2
    assert "wrote 2 stores" in storemon("report", "--db", db, "--out", tmp_path / "r.csv").stdout
