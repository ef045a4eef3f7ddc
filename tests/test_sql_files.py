"""The SQL files say truly what they need: every relation a file's `Needs:` names is made by a
file that runs before it (in its own folder, in run order, or in a stage that runs first), and
sql/report.sql, the analysts' entry point, reads exactly the files of sql/report/ and
sql/rollups/, in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SQL = ROOT / "sql"
MAKES = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?(?:TABLE|VIEW|MACRO)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?(?:\w+\.)?(\w+)",  # (a database's name before the dot)
    re.IGNORECASE | re.MULTILINE,
)
# What each stage runs after: the load's tables are there for every later stage; a store's week
# runs the report's files first; a batch is parsed by the load's files (storemon/append.py); the
# kept store weeks run after one store's week's files, on the service's tables.
EARLIER = {
    "load": [],
    "append": ["load"],
    "report": ["load", "append"],
    "store": ["load", "append", "report"],
    "rollups": ["load", "append", "report"],
    "cluster": [],
    "service": ["load", "append", "report"],
    "alerts": ["load", "append", "report"],
    "store_weeks": ["load", "append", "report", "store", "service"],
}
# Files that run another stage's files first (their Needs: says so).
ALSO_EARLIER = {
    "append/50_poll_retention.sql": ["report"],
    "cluster/10_bucket_stores.sql": ["load"],  # after load/15_ids_beside_polls
    "cluster/20_bucket_polls.sql": ["load"],  # after load/20_stores and 21_poll_instants
}
# Made by Python, not by a file: a batch's parsed rows (storemon/append.py), and its usable rows
# as the alerts read them (storemon/alerts.py).
FROM_PYTHON = {"batch_rows", "alert_batch"}


def made_by(path: Path) -> set[str]:
    return {name.lower() for name in MAKES.findall(path.read_text())}


def needs(path: Path) -> str:
    """The file's `Needs:` paragraph (the header's comment lines from `-- Needs:` on)."""
    lines, inside = [], False
    for line in path.read_text().splitlines():
        if line.startswith("-- Needs:"):
            inside = True
        elif inside and not line.startswith("--"):
            break
        if inside:
            lines.append(line.removeprefix("--"))
    return " ".join(lines)


ALL_FILES = sorted(SQL.glob("*/*.sql"))
EVERY_RELATION = set().union(*(made_by(p) for p in ALL_FILES)) | FROM_PYTHON


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(SQL)))
def test_every_relation_a_file_needs_is_made_before_it(path):
    stage = path.parent.name
    before = set(FROM_PYTHON)
    for earlier in EARLIER[stage] + ALSO_EARLIER.get(str(path.relative_to(SQL)), []):
        before |= set().union(*(made_by(p) for p in sorted((SQL / earlier).glob("*.sql"))))
    before |= set().union(
        set(), *(made_by(p) for p in sorted(path.parent.glob("*.sql")) if p < path)
    )
    named = {word.lower() for word in re.findall(r"\b[a-z_]+\b", needs(path))}
    relations = named & EVERY_RELATION
    missing = sorted(relations - before)
    assert not missing, f"{path.name} needs {missing}, made by no file that runs before it"
    assert needs(path), f"{path.name} has no Needs: line"


def test_report_sql_reads_exactly_the_report_and_rollup_files_in_order():
    read = re.findall(r"^\.read (sql/\S+)$", (SQL / "report.sql").read_text(), re.M)
    files = [*sorted((SQL / "report").glob("*.sql")), *sorted((SQL / "rollups").glob("*.sql"))]
    assert read == [str(p.relative_to(ROOT)) for p in files]
