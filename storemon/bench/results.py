"""What a workload measured, and the results as Markdown tables."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

GB = 1024**3


MB = 1024**2


@dataclass
class Result:
    name: str  # short and stable, to match runs when comparing
    workload: str
    data: str
    seconds: list[float]
    peak_rss_bytes: int
    target: str = ""
    met: bool | None = None
    steps: dict[str, float] = field(default_factory=dict)  # SQL file -> median seconds

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def seconds_and_peak(runs: list[tuple[float, int]]) -> tuple[list[float], int]:
    return [seconds for seconds, _ in runs], max(rss for _, rss in runs)


def render(report: dict, earlier: dict | None = None) -> str:
    """The results as Markdown tables (they read well in a terminal and paste into README)."""
    before = {r["name"]: r["median"] for r in (earlier or {}).get("results", []) if "name" in r}
    head = "| workload | data | runs | median | min-max | peak RSS | target | met |"
    if earlier:
        head += f" before ({earlier.get('commit') or earlier.get('when')}) |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for r in report["results"]:
        seconds = r["seconds"]
        met = {True: "yes", False: "**NO**", None: ""}[r["met"]]
        row = (
            f"| {r['workload']} | {r['data']} | {len(seconds)} | {r['median']:.2f} s "
            f"| {min(seconds):.2f}-{max(seconds):.2f} s | {r['peak_rss_bytes'] / 2**20:,.0f} MB "
            f"| {r['target']} | {met} |"
        )
        if earlier:
            old = before.get(r["name"])
            row += f" {old:.2f} s |" if old is not None else " |"
        lines.append(row)
    with_steps = [r for r in report["results"] if r["steps"]]
    if with_steps:
        lines += [
            "",
            "| SQL step (median seconds) | "
            + " | ".join(f"{r['name']}: {r['data']}" for r in with_steps)
            + " |",
        ]
        lines.append("|" + " --- |" * (len(with_steps) + 1))
        for step in with_steps[0]["steps"]:
            cells = " | ".join(f"{r['steps'].get(step, 0):.3f}" for r in with_steps)
            lines.append(f"| {step} | {cells} |")
    cluster = report.get("cluster_tasks")
    if cluster:
        lines += ["", _cluster_line(cluster)]
    floor = report.get("bench_process_peak_rss_bytes")
    if floor:
        lines += ["", f"(The bench process itself peaked at {floor / 2**20:,.0f} MB.)"]
    return "\n".join(lines)


def _cluster_line(cluster: dict) -> str:
    """The cluster's task fit and its projection, in words."""
    projected = "; ".join(
        f"{name} ({found['polls'] / 1e9:.2f} G polls, {found['tasks']:,} tasks): "
        f"{found['worker_seconds']:,.0f} worker-s, "
        + ", ".join(
            f"{minutes:.1f} min on {workers}" for workers, minutes in found["minutes"].items()
        )
        for name, found in cluster["projection"].items()
    )
    return (
        f"The cluster's report tasks ({len(cluster['tasks'])} at 1x and 10x): "
        f"{cluster['fixed_seconds']:.3f} s fixed + {cluster['seconds_per_million_polls']:.3f} s "
        f"per M polls (least squares). Projected: {projected} (one-thread workers; the client's "
        "CSV not included)."
    )
