"""What the pages keep of finished reports (storemon/finished.py): computed once, at most so
many answers, the least recently used going first, a removed report's at once."""

from __future__ import annotations

from storemon.finished import Finished


def test_an_answer_is_computed_once_and_kept():
    kept = Finished(entries=4)
    computed = []

    def compute(value):
        computed.append(value)
        return value

    assert kept.get("r1", ("page", 1), lambda: compute("a")) == "a"
    assert kept.get("r1", ("page", 1), lambda: compute("b")) == "a"  # kept
    assert kept.get("r2", ("page", 1), lambda: compute("c")) == "c"  # another report's
    assert computed == ["a", "c"]


def test_the_least_recently_used_goes_first_and_a_removed_reports_go_at_once():
    kept = Finished(entries=2)
    kept.get("r1", ("a",), lambda: 1)
    kept.get("r1", ("b",), lambda: 2)
    kept.get("r1", ("a",), lambda: 0)  # used: now the most recent
    kept.get("r2", ("a",), lambda: 3)  # pushes out r1's ("b",)
    assert kept.get("r1", ("b",), lambda: 20) == 20  # computed again; pushes out ("a",)
    assert kept.get("r2", ("a",), lambda: 30) == 3  # still kept
    assert kept.get("r1", ("a",), lambda: 10) == 10  # it went
    kept.forget(["r1", "r2"])
    assert kept.get("r1", ("a",), lambda: 100) == 100
    assert kept.get("r2", ("a",), lambda: 300) == 300
