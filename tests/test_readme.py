"""The README's quick start is exactly two commands, and CI runs the second one."""

from pathlib import Path

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
