"""``bench.cache_floor`` on a tiny generated graph: the same inputs asked in several passes,
with the kept bounds as shipped or replaced, and the figures written. Checks that the tool
runs, applies the bounds it is given and reports, not how fast anything is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import REPO
from queries.kept import KEPT_PER_KIND, PARTS_KEPT
from queries.structure import STRUCTURE_CACHED
from tests.bench.helpers import run_module, tiny_run

pytest.importorskip("pyarrow")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return tiny_run(tmp_path_factory.mktemp("cache-floor"))


@pytest.mark.parametrize("bounds", [[], ["--kept", "100000", "--parts", "7", "--rows", "50"]])
def test_passes_over_the_same_inputs(tiny: tuple[Path, Path], tmp_path: Path,
                                     bounds: list[str]) -> None:
    db, inputs = tiny
    results = tmp_path / "results"
    proc = run_module(["bench.cache_floor", "--n", "5", "--passes", "2", "--db", str(db),
                 "--inputs", str(inputs), "--results", str(results), *bounds])
    assert proc.returncode == 0, proc.stderr[-3000:]
    [written] = list(results.glob("cache-floor-accountability-*.json"))
    out = json.loads(written.read_text())
    assert out["query"] == "accountability" and out["n"] == 5
    assert len(out["passes"]) == 2
    for p in out["passes"]:
        assert p["n"] == 5 and p["p95_ms"] >= p["p50_ms"] > 0
        assert isinstance(p["anon_added_mib"], float)
        # every answer reads its acts' links from the engine, and an answer's time without
        # the engine's is never more than its whole time (answer by answer, so percentile
        # by percentile)
        assert p["engine_ms_mean"] > 0
        assert 0 < p["without_engine_p50_ms"] <= p["p50_ms"]
        assert 0 < p["without_engine_p95_ms"] <= p["p95_ms"]
    assert out["query_code"] == "native" or out["query_code"].startswith("sources")
    shipped = {"kept": KEPT_PER_KIND, "parts": PARTS_KEPT, "rows": STRUCTURE_CACHED}
    assert out["bounds"] == ({"kept": 100_000, "parts": 7, "rows": 50} if bounds else shipped)
    assert "pass 2: p50" in proc.stdout


def test_the_bounds_reach_what_the_service_keeps(tiny: tuple[Path, Path]) -> None:
    """The replaced bounds are the ones the kept sets and the structure are built with (a
    bound read at import time would leave the shipped one in force, and the figures would
    describe a cache that did not run)."""
    db, inputs = tiny
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import bench.cache_floor as cf\n"
        "import queries.kept as K\n"
        "limits = []\n"
        "orig = K.Halves.__init__\n"
        "def spy(self, limit=K.KEPT_PER_KIND):\n"
        "    limits.append(limit)\n"
        "    orig(self, limit)\n"
        "K.Halves.__init__ = spy\n"
        "inputs = json.loads(Path(sys.argv[2]).read_text())\n"
        "cf.measure(Path(sys.argv[1]), inputs, 'accountability', 2, 1, 123, 45, 678)\n"
        "print(json.dumps(sorted(set(limits))))\n"
    )
    # the spy replaces a method, which a compiled class does not allow: the sources here,
    # and the compiled modules' reading of the bounds apart, below
    proc = subprocess.run([sys.executable, "-c", code, str(db), str(inputs)], cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "ACCGRAPH_NATIVE": "0"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    # claims and references per half, parts per half, structure rows (two halves)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [45, 123, 339]


def test_compiled_modules_read_the_bounds_when_they_build() -> None:
    """``bench.cache_floor`` sets the bounds as module attributes: the compiled modules
    (``graph.native``) must read them when a kept set is built, not when compiled."""
    code = ("import json\n"
            "import queries.kept as K, queries.structure as S, graph.native as n\n"
            "K.KEPT_PER_KIND, K.PARTS_KEPT = 123, 45\n"
            "k = K.Kept()\n"
            "print(json.dumps([n.status()['state'], k.claims.limit, k.refs.limit,\n"
            "                  k.parts.limit]))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state, *limits = json.loads(proc.stdout)
    assert limits == [123, 123, 45], state
