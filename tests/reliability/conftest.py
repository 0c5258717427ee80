"""Helpers for the reliability suite: run the CLI or Python in a subprocess (so a SIGKILL,
a file-size limit or a crash cannot take the test process with it), generate small
synthetic graphs, and snapshot a database to compare before and after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def py(code: str, *args: str, timeout: float = 300, env: dict[str, str] | None = None,
       preexec: Any = None) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` in a fresh interpreter from the repo root."""
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})},
                          preexec_fn=preexec)


def cli(*args: str, timeout: float = 300, preexec: Any = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec)


SNAPSHOT = """
import json, sys
from graph.embedded import EmbeddedStore
s = EmbeddedStore(sys.argv[1])
out = {"counts": s.counts()}
rows = s.execute("MATCH (n) RETURN n.id AS id ORDER BY id")
out["ids"] = [r["id"] for r in rows]
s.close()
print(json.dumps(out))
"""


def snapshot(db: Path) -> dict[str, Any]:
    """Counts per kind/type and every node id, read in a fresh process (as a restart)."""
    proc = py(SNAPSHOT, str(db), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def small_graph(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A small synthetic native folder (about 2,000 records) from bench/generate.py."""
    sys.path.insert(0, str(REPO))
    from bench.generate import generate

    out = tmp_path_factory.mktemp("synthetic") / "graph"
    info = generate(0.0005, 11, out)
    return out, info
