"""``bench.workers.size_by_latency``: the accountability figure that says how an answer's
time follows its size, so the benchmark's miss reads in actors (issue #7)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import render
from bench.workers import size_by_latency


def test_bands_hold_every_answer_and_order_by_size() -> None:
    # 90 small fast answers, 10 large slow ones: the slowest 5 % are all large
    sized = [(0.005 + i * 1e-5, 50 + i % 40) for i in range(90)]
    sized += [(0.030 + i * 1e-3, 420 + i) for i in range(10)]
    got = size_by_latency(sized)
    assert got["answers"] == 100
    assert sum(b["answers"] for b in got["bands"]) == 100
    assert [b["items_from"] for b in got["bands"]] == [0, 400]
    small, large = got["bands"]
    assert small["answers"] == 90 and large["answers"] == 10
    assert small["p50_ms"] < 6 < 30 <= large["p50_ms"] <= large["p95_ms"]
    assert got["slowest_5pct_items_median"] >= 420
    assert got["rest_items_median"] < 100
    assert got["items_p95"] >= 420


def test_percentiles_by_nearest_rank_as_every_other_figure() -> None:
    # two answers in a band: its p95 is the slower one (bench.common.pct), never below p50
    got = size_by_latency([(0.004, 10), (0.009, 20)])
    (band,) = got["bands"]
    assert band["p50_ms"] <= band["p95_ms"] == 9.0
    assert got["items_p95"] == 20


def test_the_report_shows_the_bands() -> None:
    # a committed scale-1 result, its accountability figure given bands
    run = json.loads((Path(__file__).parents[2] / "bench/results/latest.json").read_text())
    run["engine"]["queries"]["accountability"]["size_by_latency"] = size_by_latency(
        [(0.004, 20), (0.012, 150), (0.013, 160)])
    text = render(run)
    assert "Accountability time by answer size" in text
    assert "| 100-199 | 2 |" in text
