"""Kùzu 0.11.3 is the documented fallback engine: the same store code loads the seed-facts
graph on it (in a subprocess, since the two engines must never share a process)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import json, sys
from pathlib import Path
from graph.embedded import EmbeddedStore
from ingest.formats import ingest_path
from ingest.seed import seed_data_path
store = EmbeddedStore(sys.argv[1])
first = ingest_path(store, "native", seed_data_path())
second = ingest_path(store, "native", seed_data_path())
print(json.dumps({"ok": first.ok, "added": first.total("added"), "rewritten": second.written,
                  "counts": store.counts(), "engines": [m for m in ("ladybug", "kuzu") if m in sys.modules]}))
"""


@pytest.mark.skipif(importlib.util.find_spec("kuzu") is None,
                    reason="kuzu 0.11.3 is not installed (pip install kuzu==0.11.3)")
def test_seed_graph_loads_on_kuzu(tmp_path: Path) -> None:
    env = {**os.environ, "ACCGRAPH_ENGINE": "kuzu"}
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "kuzu.db")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["ok"] and result["added"] > 300 and not result["rewritten"]
    assert result["counts"]["unsourced_claims"] == 0
    assert result["engines"] == ["kuzu"]


def test_unknown_engine_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "ACCGRAPH_ENGINE": "sqlite"}
    run = subprocess.run([sys.executable, "-m", "cli.main", "--db", str(tmp_path / "x"), "stats"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 3
    assert "ACCGRAPH_ENGINE must be 'ladybug' or 'kuzu'" in run.stderr
