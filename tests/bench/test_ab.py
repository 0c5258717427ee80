"""``bench.ab`` on a tiny generated graph: two commits timed in alternating fresh processes,
each importing its own tree's code, and the comparison written as a results file. Checks
that the tool runs and reports, not how fast anything is."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import REPO
from bench.run import make_inputs

pytest.importorskip("pyarrow")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _run(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True,
                          check=False, text=True, timeout=timeout)


def test_ab_times_two_commits_on_one_graph(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("bench.ab checks commits out of the project's git repository")
    data, db = tmp_path / "data", tmp_path / "graph.lbdb"
    proc = _run(["bench.generate", "--scale", "0.002", "--seed", "3", "--out", str(data)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = _run(["bench.workers", "ingest", str(data), str(db)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps(make_inputs(data, 6, 1, 3)), encoding="utf-8")
    results = tmp_path / "results"
    proc = _run(["bench.ab", "HEAD", "--pairs", "1", "--n", "4", "--db", str(db),
                 "--inputs", str(inputs), "--results", str(results)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    [written] = list(results.glob("ab-accountability-*.json"))
    out = json.loads(written.read_text())
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert out["old"] == head and out["new"].startswith(head)
    [pair] = out["runs"]
    for side in ("old", "new"):
        assert pair[side]["n"] == 4 and pair[side]["errors"] == {}
        assert pair[side]["p95_ms"] >= pair[side]["p50_ms"] > 0
    assert "p95_ms_change" in out["summary"]
    assert "accountability, 1 pairs of 4 inputs" in proc.stdout
    # the temporary worktree is gone
    listed = subprocess.run(["git", "-C", str(REPO), "worktree", "list"], capture_output=True,
                            text=True, check=True).stdout
    assert "accgraph-ab-" not in listed
