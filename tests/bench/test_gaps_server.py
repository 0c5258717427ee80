"""``bench.gaps_server`` on a tiny generated graph: a two-worker server asked gaps questions
until both workers have answered one. Checks that every answer is a 200 with the same total
for one authority, that the scan is built once and mapped by both workers (the shared
cache), and that the figures are written; not how fast or how big anything is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bench.helpers import run_module, tiny_run

pytest.importorskip("pyarrow")
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_both_workers_answer_from_one_scan(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db, _ = tiny_run(tmp_path)
    # a tiny database is under the size from which caches are shared: share it anyway
    monkeypatch.setenv("ACCGRAPH_SHARED_MIN_BYTES", "0")
    monkeypatch.setenv("ACCGRAPH_SHARED_CACHES", str(tmp_path / "caches"))
    results = tmp_path / "results"
    proc = run_module(["bench.gaps_server", "--db", str(db), "--workers", "2",
                       "--max-questions", "24", "--results", str(results)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    [written] = list(results.glob("gaps-server-*.json"))
    out = json.loads(written.read_text())
    asks = out["asks"]
    # (a 503 while the scan is built is asked again by the tool: each ask ends answered)
    assert asks and all(a["status"] == 200 for a in asks)
    by_authority: dict[str, set[int]] = {}
    for a in asks:
        by_authority.setdefault(a["authority"], set()).add(a["total"])
    assert all(len(totals) == 1 for totals in by_authority.values())
    assert asks[-1]["mapping_the_scan"] == 2  # both workers, one scan's files
    # one scan (the anonymous caller's view), written once
    assert len([p for p in (tmp_path / "caches").rglob("gaps-public-*") if p.is_dir()]) == 1
    assert out["before"]["pss_mib"] > 0 and out["after"]["peak_mib"] >= out["before"]["pss_mib"]
    assert "workers that answered gaps 2 of 2" in proc.stdout
