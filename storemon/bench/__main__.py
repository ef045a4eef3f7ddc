"""The bench's children: `python -m storemon.bench report-worker DB REPEAT [furthest]` (of
single_node.bench_report), `... report-pair-worker DB OTHER_DB REPEAT` (of
single_node.bench_report_pair) and `... cluster-worker WORKERS BUCKETS FOLDER...` (of
on_cluster.bench_cluster)."""

from __future__ import annotations

import sys
from pathlib import Path

from storemon.bench.on_cluster import cluster_worker
from storemon.bench.single_node import report_pair_worker, report_worker

USAGE = (
    "usage: python -m storemon.bench report-worker DB REPEAT [furthest]\n"
    "       python -m storemon.bench report-pair-worker DB OTHER_DB REPEAT\n"
    "       python -m storemon.bench cluster-worker WORKERS BUCKETS FOLDER..."
)


def main(argv: list[str]) -> None:
    if len(argv) in (3, 4) and argv[0] == "report-worker" and argv[3:] in ([], ["furthest"]):
        report_worker(argv[1], int(argv[2]), furthest=len(argv) == 4)
    elif len(argv) == 4 and argv[0] == "report-pair-worker":
        report_pair_worker(argv[1], argv[2], int(argv[3]))
    elif len(argv) >= 4 and argv[0] == "cluster-worker":
        cluster_worker(int(argv[1]), int(argv[2]), [Path(folder) for folder in argv[3:]])
    else:
        raise SystemExit(USAGE)


if __name__ == "__main__":
    main(sys.argv[1:])
