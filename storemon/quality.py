"""What the data can and cannot mean, said in words: the load's data_quality findings and a
report's notes (sql/load/26_data_quality.sql, sql/report/08_report_notes.sql)."""

from __future__ import annotations

from storemon.results import Finding


def finding_line(found: Finding) -> str:
    """One finding as a sentence: how many of what, e.g. which, and what it means."""
    return f"{found.count:,} {found.finding}{_examples(found.examples)}: {found.meaning}"


def note_line(finding: str, stores: int, examples: list[str], meaning: str) -> str:
    """A report note as a sentence."""
    return f"{stores:,} stores with {finding}{_examples(examples)}: {meaning}"


def _examples(examples: list[str]) -> str:
    return f" (e.g. {', '.join(examples)})" if examples else ""
