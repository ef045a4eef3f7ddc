"""What the pages read of the data as it is now, read once and kept until the data changes: the
stores down now, a store's latest events, the rejected rows. The data changes only by a load or
a batch, and the service says so (`changed`) once it is committed, so an answer read since the
last change is the data's answer. At most ENTRIES are kept, the one used least recently going
first; a change drops them all.

(A finished report's answers, which never change, are storemon/finished.py's.)"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

ENTRIES = 4096  # a store's events are the most numerous: 20 rows each


class Current:
    def __init__(self, entries: int = ENTRIES) -> None:
        self._entries = entries
        self._kept: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._changes = 0
        self._lock = threading.Lock()

    def get(self, ask: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """The answer to `ask`: kept, or computed now and kept unless the data changed while it
        was computed. (Two threads asking at once may both compute it: the same answer.)"""
        with self._lock:
            if ask in self._kept:
                self._kept.move_to_end(ask)
                return self._kept[ask]
            changes = self._changes
        answer = compute()
        with self._lock:
            if self._changes == changes:
                self._kept[ask] = answer
                while len(self._kept) > self._entries:
                    self._kept.popitem(last=False)
        return answer

    def changed(self) -> None:
        """The data changed (committed): every answer is read again."""
        with self._lock:
            self._changes += 1
            self._kept.clear()
