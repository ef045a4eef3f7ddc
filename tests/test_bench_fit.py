"""The bench's line through the cluster's report tasks (a task's fixed cost and its cost per
million polls) and the projection to 100x and 1000x made from it (storemon/bench/on_cluster.py)."""

import pytest

from storemon.bench.on_cluster import projection, task_fit
from storemon.bench.results import render


def test_the_fit_finds_a_tasks_fixed_cost_and_its_cost_per_million_polls():
    tasks = [(polls, 0.25 + 0.5 * polls / 1e6) for polls in (1_100_000, 1_150_000, 1_450_000)]
    fixed, per_million = task_fit(tasks)
    assert fixed == pytest.approx(0.25)
    assert per_million == pytest.approx(0.5)


def test_tasks_all_of_one_size_give_their_rate_and_no_fixed_cost():
    assert task_fit([(2_000_000, 3.0), (2_000_000, 3.0)]) == (0.0, 1.5)


def test_the_projection_adds_each_tasks_fixed_cost_to_the_polls_cost():
    found = projection((0.25, 0.5), polls_1x=2_000_000, polls_a_task=1_000_000)
    at_100x = found["100x"]
    assert at_100x["tasks"] == 200
    assert at_100x["worker_seconds"] == pytest.approx(200 * 0.25 + 0.5 * 200)
    assert at_100x["minutes"][8] == pytest.approx(150 / 8 / 60)
    assert found["1000x"]["worker_seconds"] == pytest.approx(2000 * 0.25 + 0.5 * 2000)


def test_the_bench_prints_the_fit_and_the_projection():
    cluster = {
        "tasks": [(1_000_000, 0.75), (2_000_000, 1.25)],
        "fixed_seconds": 0.25,
        "seconds_per_million_polls": 0.5,
        "projection": projection((0.25, 0.5), 2_000_000, 1_000_000),
    }
    printed = render({"results": [], "cluster_tasks": cluster})
    assert "0.250 s fixed + 0.500 s per M polls" in printed
    at_1000x = "1000x (2.00 G polls, 2,000 tasks): 1,500 worker-s, 3.1 min on 8, 0.4 min on 64"
    assert at_1000x in printed
