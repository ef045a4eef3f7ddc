"""The real `duckdb` shell (the duckdb-cli package) runs storemon's SQL and reads its files."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from storemon.database import connect, sql_files, sql_version, storage_version
from storemon.generate import generate
from storemon.ingest import HOURS, POLLS, TIMEZONES, read_header
from storemon.report import run_report
from storemon.zones import iana_names
from tests.server import ROOT, in_process, storemon

SHELL = Path(sys.executable).with_name("duckdb")
AS_OF = "2023-03-14 18:30:00"


def shell(*commands: str, db: Path | None = None) -> str:
    """Run the duckdb shell from the project's folder, as the README says, printing CSV; fail
    on any error."""
    assert SHELL.is_file(), f"{SHELL} is missing: duckdb-cli is one of storemon's dependencies"
    args = [str(SHELL), "-bail", "-csv"]
    args += ["-readonly", str(db)] if db else []
    for command in commands:
        args += ["-c", command]
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and "Error" not in done.stderr, done.stderr
    return done.stdout


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("analyst")
    files = generate(folder / "csv", stores=150, days=7, seed=11, bad_rows=True)
    db = folder / "storemon.duckdb"
    storemon(
        "ingest", "--db", str(db),
        "--status", str(files.status), "--hours", str(files.hours),
        "--timezones", str(files.timezones),
    )  # fmt: skip
    return db


def test_the_shell_opens_the_database_storemon_writes(db):
    with connect(db, read_only=True) as con:
        assert storage_version(con) == "v1.5.0+"
    assert rows(shell("SELECT version()"))[1][0].startswith("v1.5")
    assert rows(shell("SELECT count(*) FROM polls", db=db))[1] == [str(count(db, "polls"))]


def count(db: Path, table: str) -> int:
    with connect(db, read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_file_in_duckdb_2_format_is_rewritten_for_the_shell_losing_nothing(tmp_path):
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:  # DuckDB 2.0's own format, as storemon once wrote
        con.execute("CREATE TABLE polls AS SELECT range AS n, 'x' || range AS s FROM range(1000)")
        con.execute("CREATE TABLE report_runs (report_id VARCHAR PRIMARY KEY, status VARCHAR)")
        con.execute("INSERT INTO report_runs VALUES ('r1', 'Complete')")
    blocked = subprocess.run(
        [str(SHELL), "-readonly", str(old), "-c", "SELECT 1"], capture_output=True, text=True
    )
    assert blocked.returncode != 0 and "version" in blocked.stderr
    with connect(old) as con:
        assert storage_version(con) == "v1.5.0+"
        assert con.execute("SELECT count(*), sum(n) FROM polls").fetchone() == (1000, 499500)
    assert rows(shell("SELECT status FROM report_runs", db=old)) == [["status"], ["Complete"]]
    assert not list(tmp_path.glob("*.rewrite"))


@pytest.mark.parametrize("as_of", [None, AS_OF])
def test_report_sql_in_the_shell_equals_storemon_report_row_for_row(db, tmp_path, as_of):
    out = tmp_path / "report.csv"
    storemon("report", "--db", str(db), "--out", str(out), *(["--as-of", as_of] if as_of else []))
    setup = [f"SET VARIABLE as_of = TIMESTAMPTZ '{as_of}+00'"] if as_of else []
    # The shell's own time zone must not matter: set one far from UTC.
    printed = shell("SET TimeZone = 'Pacific/Auckland'", *setup, ".read sql/report.sql", db=db)
    expected = rows(out.read_text())
    assert len(expected) == 151
    assert rows(printed) == expected


def test_each_report_file_runs_on_its_own_after_what_it_needs(db):
    """Run the files one shell command at a time; each makes the relation its header names,
    with the rows the Python runner gets."""
    with connect(db, read_only=True) as con:
        run_report(con)
        # (00_report_macros.sql makes only macros: the files after it use them)
        files = [f for f in sql_files("report") if not f.name.startswith("00_")]
        made = [re.match(r"-- Makes: (\w+)", f.read_text()).group(1) for f in files]
        expected = [con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in made]
    reads = [f".read {f.relative_to(ROOT)}" for f in files]
    counts = [f"SELECT '{name}', count(*) FROM {name}" for name in made]
    macros = f".read {sql_files('report')[0].relative_to(ROOT)}"
    pairs = [c for pair in zip(reads, counts, strict=True) for c in pair]
    printed = rows(shell(macros, *pairs, db=db))
    got = [int(row[1]) for row in printed if row[0] in made]
    assert got == expected and min(got) > 0


def test_the_load_files_run_in_the_shell_too(db, tmp_path):
    """With the variables storemon sets, the shell loads the same tables from the same files."""
    folder = db.parent / "csv"
    sets = []
    for source, name in ((POLLS, "store_status"), (HOURS, "menu_hours"), (TIMEZONES, "timezones")):
        path = folder / f"{name}.csv"
        columns, newline = read_header(path, source)
        struct = "{" + ", ".join(f"'{k}': {v}" for k, v in columns.items()) + "}"
        sets += [
            f"SET VARIABLE {source.prefix}_file = '{path}'",
            f"SET VARIABLE {source.prefix}_newline = '{newline}'",
            f"SET VARIABLE {source.prefix}_columns = {struct}",
        ]
    names = ", ".join(f"'{name}'" for name in iana_names())
    sets.append(f"SET VARIABLE zone_names = [{names}]")
    fresh = tmp_path / "shell.duckdb"
    done = subprocess.run(
        [str(SHELL), "-bail", str(fresh)]
        + [arg for c in sets for arg in ("-c", c)]
        + [arg for f in sql_files("load") for arg in ("-c", f".read {f.relative_to(ROOT)}")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for table in ("stores", "polls", "business_hours", "store_timezones", "rejected_rows"):
        query = f"SELECT * FROM {table} ORDER BY ALL"
        if table == "rejected_rows":
            query = "SELECT source, line, raw, reason, detail FROM rejected_rows ORDER BY ALL"
        with (
            duckdb.connect(str(fresh), read_only=True) as mine,
            connect(db, read_only=True) as theirs,
        ):
            for con in (mine, theirs):
                con.execute("SET TimeZone = 'UTC'")
            cast = f"SELECT COLUMNS(*)::VARCHAR FROM ({query})"
            expected = theirs.execute(cast).fetchall()
            assert expected and mine.execute(cast).fetchall() == expected, table


def readme_sql() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## For analysts", 1)[1].split("\n## ", 1)[0]
    return [block.split("```", 1)[0].strip() for block in section.split("```sql\n")[1:]]


def test_analyst_views_read_reports_while_the_service_runs(db, tmp_path):
    served = tmp_path / "storemon.duckdb"
    shutil.copy(db, served)
    views = ".read sql/analyst_views.sql"
    where = f"SET VARIABLE storemon_data = '{tmp_path}'"
    with in_process(served) as server:
        first = server.trigger(as_of=AS_OF)
        assert server.wait(first)[0] == 200
        second = server.trigger()
        code, _, api_csv = server.wait(second)
        assert code == 200
        # The service holds the file: not even a read-only shell may open it ...
        blocked = subprocess.run(
            [str(SHELL), "-readonly", str(served), "-c", "SELECT 1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert blocked.returncode != 0 and "lock" in blocked.stderr.lower()
        # ... but the views over the Parquet copies work, from another process.
        latest = shell(where, views, "SELECT * FROM latest_report")
        assert rows(latest) == rows(api_csv.decode())
        for part in ("outages", "summary"):
            api_part = server.request("GET", f"/reports/{second}/{part}.csv")[2].decode()
            shown = shell(
                where,
                "SET TimeZone = 'UTC'",
                ".nullvalue ''",
                views,
                f"SELECT * FROM latest_{part}",
            )
            assert rows(shown) == rows(api_part) and len(rows(api_part)) > 1, part
        runs = rows(
            shell(where, views, "SELECT report_id, status, stores, sql_version FROM report_runs")
        )
        assert sorted(runs[1:]) == sorted(
            [[first, "Complete", "150", sql_version()], [second, "Complete", "150", sql_version()]]
        )
        by_report = rows(
            shell(where, views, "SELECT report_id, count(*) FROM report_rows GROUP BY ALL")
        )
        assert sorted(by_report[1:]) == sorted([[first, "150"], [second, "150"]])
        rejected = rows(shell(where, views, "SELECT count(*) FROM rejected_rows"))
        assert int(rejected[1][0]) == count(db, "rejected_rows") > 0
        # Every recipe in the README runs and answers something.
        recipes = readme_sql()
        assert len(recipes) >= 4
        for recipe in recipes:
            answer = rows(shell(where, views, recipe))
            assert len(answer) > 1, recipe
        _, health = server.json("GET", "/health")
        assert json.dumps(health)  # the service kept serving throughout


def test_every_load_leaves_parquet_copies_of_the_loaded_tables(db):
    tables = ("stores", "polls", "business_hours", "special_hours", "store_timezones")
    for table in (*tables, "rejected_rows", "load_summary"):
        copy = db.parent / "snapshots" / f"{table}.parquet"
        with duckdb.connect() as con:
            copied = con.execute("SELECT count(*) FROM read_parquet(?)", [str(copy)]).fetchone()
        assert copied[0] == count(db, table), table
    assert not list((db.parent / "snapshots").glob(".*"))  # no half-written files left
