"""Small-scale smokes of the benchmark and the soak (issue #7: "CI runs a small-scale smoke
of both so they cannot rot"). Seconds of load on a tiny graph: they check that every step
runs and every figure is written, not how fast anything is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.conftest import REPO

pytest.importorskip("pyarrow")
pytest.importorskip("api.app", reason="the API is not in this build yet")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


def _run(args: list[str], timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, check=False,
                          text=True, timeout=timeout)


def test_benchmark_smoke(tmp_path: Path) -> None:
    proc = _run(["bench.run", "--scale", "0.002", "--seed", "3", "--n", "15", "--n-heavy", "2",
                 "--query-seconds", "10", "--heavy-seconds", "10", "--clients", "1,4",
                 "--api-requests", "40", "--api-seconds", "10", "--mixed-seconds", "5",
                 "--loader-scale", "0.002",
                 "--results", str(tmp_path)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    latest = json.loads((tmp_path / "latest.json").read_text())
    stamped = [p for p in tmp_path.glob("*.json") if p.name not in ("latest.json",
                                                                      "partial.json")]
    assert len(stamped) == 1
    assert latest["ingest"]["records_per_second"] > 0
    assert latest["ingest"]["written"] == latest["ingest"]["records"] - sum(
        0 for _ in ())  # every generated record is new
    assert latest["ingest_loader"]["records_per_second"] > 0
    for name in ("chain", "accountability", "search", "paths", "linked", "timeline",
                 "profile", "neighbourhood"):
        q = latest["engine"]["queries"][name]
        assert q["n"] > 0 and q["p95_ms"] is not None, (name, q)
        assert not q["errors"], (name, q)
    sized = latest["engine"]["queries"]["accountability"]["size_by_latency"]
    assert sum(b["answers"] for b in sized["bands"]) == sized["answers"] > 0
    for b in ("dicts", "networkx"):
        for name in ("chain", "accountability", "search", "paths"):
            assert latest["baselines"][b]["queries"][name]["n"] > 0
    for c in ("1", "4"):
        run = latest["api"]["chain"][c]
        assert run["requests"] > 0 and run["errors"] == 0, run
    assert latest["api"]["mixed"]["errors"] == 0, latest["api"]["mixed"]
    assert set(latest["targets"]) >= {"ingest_records_per_second", "chain_p95_ms",
                                      "api_chain_rps_16_clients", "peak_memory_mib"}
    assert latest["ratios"]["chain"]["engine_over_dicts_p95"] is not None


def test_soak_smoke(tmp_path: Path) -> None:
    proc = _run(["bench.soak", "--scale", "0.002", "--seed", "3", "--minutes", "0.3",
                 "--window", "6", "--clients", "4", "--results", str(tmp_path)])
    result = json.loads((tmp_path / "soak-latest.json").read_text())
    assert result["requests"] > 0 and result["errors"] == 0, result["windows"][:2]
    assert len(result["windows"]) >= 2
    assert proc.returncode == 0, (result["checks"], proc.stderr[-2000:])


def test_api_only_smoke(tmp_path: Path) -> None:
    """``bench.run --api-only DB INPUTS`` (the lead's quick re-measure) against the database
    the benchmark smoke left behind: two read-only workers and the answer cache, so the
    cache-hitting load is measured apart from the distinct-input (uncached) one."""
    work = REPO / "bench" / "work" / "run-0.002-3"
    if not (work / "graph.lbdb").exists() or not (work / "inputs.json").exists():
        pytest.skip("needs the database of test_benchmark_smoke")
    proc = _run(["bench.run", "--api-only", str(work / "graph.lbdb"), str(work / "inputs.json"),
                 "--clients", "1,2", "--api-requests", "30", "--api-seconds", "5",
                 "--mixed-seconds", "5",
                 "--api-workers", "2", "--answer-cache-mib", "8", "--results", str(tmp_path)],
                timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [path] = tmp_path.glob("api-*.json")
    api = json.loads(path.read_text())["api"]
    assert api["workers"] == 2 and api["health"]["errors"] == 0
    for c in ("1", "2"):
        assert api["chain"][c]["requests"] > 0 and api["chain"][c]["errors"] == 0, api["chain"]
    assert api["chain_hot"]["requests"] > 0 and api["chain_hot"]["errors"] == 0
    assert api["mixed"]["errors"] == 0, api["mixed"]
    assert api["server_mem"]["processes"] >= 3  # the supervisor and two workers
