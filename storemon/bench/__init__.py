"""`storemon bench`: the speed and scale targets, measured on generated data.

Every workload runs in its own process, as a user would run it, so that its wall time and its
peak memory (the child's maximum resident set, from wait4) are its own. (Linux carries the
parent's peak into a child at exec, so the bench's own process stays small: it never loads data
itself, and it reports its own peak, the floor under every child's.)

- data.py         the data sets (generated once, cached under data/bench/ with their parameters)
- children.py     running a workload as a child process: its wall time and peak memory
- single_node.py  `storemon ingest`; the report SQL, warm, step by step (also as of the latest
                  poll + 7 days, the furthest instant the rules allow)
- service.py      through a real `storemon serve`: trigger -> Complete, a report's pages, one
                  store's week, the live week of hourly batches
- on_cluster.py   `storemon cluster` on scheduler and worker processes: ingest, then a report,
                  bucket by bucket; dask_processes.py starts them as the README does
- run.py          every workload against its target
- results.py      what each measured, and the Markdown tables (`--compare` shows an earlier run)
- __main__.py     the children's entry point (`python -m storemon.bench ...`)
"""

from storemon.bench.data import Dataset, prepare
from storemon.bench.results import render
from storemon.bench.run import run_bench

__all__ = ["Dataset", "prepare", "render", "run_bench"]
