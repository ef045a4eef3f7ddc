"""The README's quick start is exactly two commands, and CI runs the second one."""

import json
import shutil
import subprocess
from pathlib import Path

from tests.server import serving

ROOT = Path(__file__).resolve().parent.parent


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```sh\n")[1:]
    return [block.split("```", 1)[0].strip() for block in blocks]


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    setup_and_run, setup_and_test = quick_start_commands()
    assert setup_and_run.endswith("storemon demo")
    assert setup_and_test.endswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == setup_and_test


def test_every_sql_file_has_a_header_naming_what_it_makes():
    for path in sorted((ROOT / "sql").rglob("*.sql")):
        assert path.read_text().startswith("-- Makes: "), path
        assert path.name in (ROOT / "sql" / "README.md").read_text(), path


def readme_command(heading: str) -> str:
    """The first sh block of the README's section `### {heading}`."""
    section = (ROOT / "README.md").read_text().split(f"### {heading}", 1)[1].split("\n### ", 1)[0]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def run_as_printed(command: str, server, folder) -> subprocess.CompletedProcess:
    """The command as printed, from `folder`, on the test server's port instead of 8000."""
    return subprocess.run(
        ["bash", "-c", command.replace("http://127.0.0.1:8000", server.url)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_readme_curl_with_the_key_works_as_printed(tmp_path):
    """From a project folder whose data/ is served: the printed command, on the test's port."""
    command = readme_command("The key")
    assert "Authorization: Bearer $(cat data/storemon.duckdb.token)" in command
    data = tmp_path / "data"
    data.mkdir()
    for name in ("store_status.csv", "menu_hours.csv", "timezones.csv"):
        shutil.copy(ROOT / "data" / name, data / name)
    with serving(data / "storemon.duckdb", cwd=tmp_path) as server:
        done = run_as_printed(command, server, tmp_path)
        answer = json.loads(done.stdout)
        assert answer["stores"] == 300, done.stdout + done.stderr
        assert server.json("GET", "/health")[1]["data"]["stores"] == 300


def test_the_readme_poller_lines_work_as_printed(tmp_path):
    """The live-data section's commands, from a project folder whose data/ is served."""
    command = readme_command("Live data")
    data = tmp_path / "data"
    data.mkdir()
    with serving(data / "storemon.duckdb", cwd=tmp_path) as server:
        done = run_as_printed(command, server, tmp_path)
        answer = json.loads(done.stdout)
        assert (answer["kept"], answer["rejected"]) == (1, 0), done.stdout + done.stderr
        assert server.json("GET", "/health")[1]["data"]["polls"] == 1
