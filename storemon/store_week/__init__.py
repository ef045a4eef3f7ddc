"""One store's week, explained: what a person opens when a number looks wrong.

A finished report keeps its rows, outages and summary (the service's tables). The material
behind them, the store's business intervals and polls in the week, comes from the same SQL run
for every store of the report and kept (sql/store_weeks/), or for that store alone (sql/report/
00-05 with the variable `report_store`, then sql/store/), as of the report's `now`. If data came
in since the report, the answer says so: the material is then the data's as it is now.

- shapes: what a week holds, and how its instants are written;
- computed: one store's week computed for it alone;
- kept: every store's week of the reports read last, a keyed read each;
- cursors: the kept cursors both read on;
- weeks: StoreWeeks, which answers from the kept weeks or computes.
"""

from storemon.store_week.kept import KEPT_WEEKS
from storemon.store_week.shapes import Interval, Outage, SpecialDay, StoreWeek, WeekPoll
from storemon.store_week.weeks import StoreWeeks

__all__ = [
    "KEPT_WEEKS",
    "Interval",
    "Outage",
    "SpecialDay",
    "StoreWeek",
    "StoreWeeks",
    "WeekPoll",
]
