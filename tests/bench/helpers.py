"""What the benchmark tools' tests share: running a tool as the README does, and a tiny
generated graph ingested and given inputs, as ``bench.run`` leaves one (scale 0.002)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.common import REPO
from bench.run import make_inputs


def run_module(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python -m ARGS`` from the repository, output captured."""
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True,
                          check=False, text=True, timeout=timeout)


def tiny_run(where: Path, inputs_per_query: int = 8) -> tuple[Path, Path]:
    """(database, inputs.json) of a scale-0.002 graph generated and ingested in ``where``."""
    data, db = where / "data", where / "graph.lbdb"
    proc = run_module(["bench.generate", "--scale", "0.002", "--seed", "3", "--out", str(data)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = run_module(["bench.workers", "ingest", str(data), str(db)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    inputs = where / "inputs.json"
    inputs.write_text(json.dumps(make_inputs(data, inputs_per_query, 1, 3)), encoding="utf-8")
    return db, inputs
