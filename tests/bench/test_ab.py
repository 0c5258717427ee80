"""``bench.ab`` on a tiny generated graph: two commits timed in alternating fresh processes,
each importing its own tree's code, and the comparison written as a results file. Checks
that the tool runs and reports, not how fast anything is."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bench.common import REPO
from graph.native import check
from tests.bench.helpers import run_module, tiny_run

pytest.importorskip("pyarrow")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _ab(tmp_path: Path, *extra: str) -> tuple[dict[str, Any], str]:
    """``bench.ab HEAD`` on a tiny graph: (the results file, what it printed)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("bench.ab checks commits out of the project's git repository")
    db, inputs = tiny_run(tmp_path, inputs_per_query=6)
    results = tmp_path / "results"
    proc = run_module(["bench.ab", "HEAD", "--pairs", "1", "--n", "4", "--db", str(db),
                       "--inputs", str(inputs), "--results", str(results), *extra])
    assert proc.returncode == 0, proc.stderr[-3000:]
    [written] = list(results.glob("ab-accountability-*.json"))
    return json.loads(written.read_text()), proc.stdout


def test_ab_times_two_commits_on_one_graph(tmp_path: Path) -> None:
    out, printed = _ab(tmp_path)
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert out["old"] == head and out["new"].startswith(head)
    [pair] = out["runs"]
    for side in ("old", "new"):
        assert pair[side]["n"] == 4 and pair[side]["errors"] == {}
        assert pair[side]["p95_ms"] >= pair[side]["p50_ms"] > 0
    assert "p95_ms_change" in out["summary"]
    assert "accountability, 1 pairs of 4 inputs" in printed
    # both sides ran the same kind of code: HEAD's worktree had its hot path compiled
    # first, as the working tree's is (where this machine can compile at all)
    assert out["same_code_kind"], out["query_code"]
    if check()[0] == "":
        assert out["query_code"] == {"old": ["native"], "new": ["native"]}
    # the temporary worktree is gone
    listed = subprocess.run(["git", "-C", str(REPO), "worktree", "list"], capture_output=True,
                            text=True, check=True).stdout
    assert "accgraph-ab-" not in listed


def test_ab_from_the_sources(tmp_path: Path) -> None:
    """``--sources``: both sides run their sources, whatever is built."""
    out, _ = _ab(tmp_path, "--sources")
    assert out["query_code"] == {"old": ["sources (ACCGRAPH_NATIVE=0)"],
                                 "new": ["sources (ACCGRAPH_NATIVE=0)"]}
