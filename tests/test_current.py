"""What the pages read of the data as it is now (storemon/current.py): read once, and read again
once a load or a batch is committed, never an answer of the data before."""

from __future__ import annotations

from storemon.current import Current
from storemon.service import ReportService
from tests.conftest import STATUS_HEADER, two_owners, write_csv


def test_an_answer_is_read_once_until_the_data_changes():
    current, reads = Current(), []

    def read() -> int:
        reads.append(1)
        return len(reads)

    assert [current.get(("a",), read) for _ in range(3)] == [1, 1, 1]
    current.changed()
    assert current.get(("a",), read) == 2
    assert current.get(("b",), read) == 3  # each question its own answer


def test_an_answer_read_while_the_data_changed_is_not_kept():
    current = Current()
    answers = iter(["old", "new"])

    def read_across_a_change() -> str:
        current.changed()  # a batch commits while this reads
        return next(answers)

    assert current.get(("a",), read_across_a_change) == "old"
    assert current.get(("a",), lambda: "new") == "new"


def test_the_oldest_answers_go_beyond_the_entries_kept():
    current = Current(entries=2)
    for ask in ("a", "b", "c"):
        current.get((ask,), lambda ask=ask: ask)
    assert current.get(("a",), lambda: "again") == "again"
    assert current.get(("c",), lambda: "again") == "c"


def test_a_stores_events_and_the_board_follow_each_batch(tmp_path):
    db, _ = two_owners(tmp_path)  # a1, a2, b1: active at 10:00 and 11:00 on 2023-01-12
    service = ReportService(db)
    try:
        assert service.store_events("a1") == [] and service.down_now(None)[1] == 0
        batch = write_csv(
            tmp_path / "down.csv", STATUS_HEADER, [("a1", "inactive", "2023-01-12 12:00:00")]
        )
        service.append("polls", batch, shown=batch.name, idempotency_key=None, media="text/csv")
        assert [event.kind for event in service.store_events("a1")] == ["down"]
        assert [store.store_id for store in service.down_now(None)[0]] == ["a1"]
        assert service.store_events("a2") == []
        batch = write_csv(
            tmp_path / "up.csv", STATUS_HEADER, [("a1", "active", "2023-01-12 13:00:00")]
        )
        service.append("polls", batch, shown=batch.name, idempotency_key=None, media="text/csv")
        assert [event.kind for event in service.store_events("a1")] == ["up", "down"]
        assert service.down_now(None)[1] == 0
    finally:
        service.close()
