"""What the pages read of a finished report, read once and kept: a finished report never
changes, until retention removes it. At most ENTRIES answers are kept, the one used least
recently going first; a removed report's go at once (the service says which)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

ENTRIES = 1024  # answers kept: a page of a report's table is the largest, about 20 KB


class Finished:
    def __init__(self, entries: int = ENTRIES) -> None:
        self._entries = entries
        self._kept: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        report_id: str,
        ask: tuple[Hashable, ...],
        compute: Callable[[], T],
        lasts: Callable[[T], bool] = lambda _: True,
    ) -> T:
        """The answer to `ask` about finished report `report_id`: kept, or computed now and
        kept if it `lasts`. (Two threads asking at once may both compute it: the same answer.)"""
        key = (report_id, *ask)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        answer = compute()
        if not lasts(answer):
            return answer
        with self._lock:
            self._kept[key] = answer
            while len(self._kept) > self._entries:
                self._kept.popitem(last=False)
        return answer

    def forget(self, report_ids: list[str]) -> None:
        """Drop what is kept of these reports (removed, or failed)."""
        if not report_ids:
            return
        gone = set(report_ids)
        with self._lock:
            for key in [key for key in self._kept if key[0] in gone]:
                del self._kept[key]
