"""One named query timed on two commits in alternating runs, on the same graph and inputs.

    python -m bench.ab OLD [--new NEW] [--query accountability] [--pairs 3] [--n 1000]
                       [--db bench/work/run-1.0-7/graph.lbdb] [--inputs .../inputs.json]
                       [--sources]

Why: the machine's speed swings by 30-50 % from hour to hour, more than most changes are
worth, so two benchmark runs an hour apart cannot say what a change did. Alternating the
old and the new code, each in a fresh process (``bench.workers engine``, as the benchmark
runs them) on the same database, puts both under the same conditions, and several pairs
show the spread. OLD (and NEW, when given) are checked out into temporary git worktrees;
without NEW, the working tree is the new side. Each side runs compiled where its commit
has ``graph.native`` (a worktree's hot path is built first), or from its sources with
``--sources``; each run records which (``query_code``). Prints each run's p50/p95 and
writes ``bench/results/ab-<query>-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, RESULTS, SCALE1_RUN, run_json, scale1_inputs, write_result


def _worktree(ref: str, parent: Path) -> Path:
    where = parent / ref.replace("/", "_")
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(where),
                    ref], check=True)
    return where


def _check_imports(tree: Path) -> None:
    """The project is installed editable from the main tree: a process started in ``tree``
    must import ``tree``'s packages (the current directory comes first on its path), or
    both sides would time the same code."""
    found = subprocess.run([sys.executable, "-c", "import queries; print(queries.__file__)"],
                           cwd=tree, check=True, capture_output=True, text=True).stdout.strip()
    if not Path(found).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"a process in {tree} imports {found}, not that tree's code")


def _commit(tree: Path) -> str:
    return subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                          check=True, capture_output=True, text=True).stdout.strip()


def _build_native(tree: Path) -> None:
    """Compile ``tree``'s hot path (``graph.native``) when that commit has one: a worktree
    starts without a build, and one side compiled against the other from its sources
    would time the compiler, not the change (chain p95 23 % apart, seventeenth session).
    A commit from before ``graph.native`` runs its sources; ``--sources`` runs both so."""
    if (tree / "graph" / "native_build.py").exists():
        subprocess.run([sys.executable, "-m", "graph.native_build"], cwd=tree, check=False)


def _one_run(tree: Path, db: Path, inputs: Path, query: str, timeout: float,
             env: dict[str, str] | None = None) -> dict[str, Any]:
    """One fresh process of ``tree``'s code timing ``query`` over every input, with the
    code it ran (compiled or the sources: ``query_code``)."""
    out = run_json(["-m", "bench.workers", "engine", str(db), str(inputs), "--only", query,
                    "--budget", str(timeout)], timeout, cwd=tree, env=env)
    return {**out["queries"][query],
            "query_code": out.get("query_code", "sources (a commit before graph.native)")}


def compare(old: str, new: str | None, query: str, pairs: int, n: int, db: Path,
            inputs: Path, given: dict[str, Any], timeout: float = 900,
            sources: bool = False) -> dict[str, Any]:
    """``pairs`` old/new runs of ``query`` over the first ``n`` of ``given`` (read from
    ``inputs``), alternating; each side compiled where its commit can be (``sources``:
    both from their sources)."""
    env = {"ACCGRAPH_NATIVE": "0"} if sources else None
    if query not in given:
        raise SystemExit(f"{inputs}: no inputs for {query!r}")
    with tempfile.TemporaryDirectory(prefix="accgraph-ab-") as tmp:
        trimmed = Path(tmp) / "inputs.json"
        # every list kept: the worker's warm-ups read the first chain, search and paths input
        trimmed.write_text(json.dumps({**given, query: given[query][:n]}), encoding="utf-8")
        trees = Path(tmp) / "trees"
        made: list[Path] = []
        try:
            old_tree = _worktree(old, trees)
            made.append(old_tree)
            new_tree = REPO
            if new is not None:
                new_tree = _worktree(new, trees)
                made.append(new_tree)
            for tree in (old_tree, new_tree):
                _check_imports(tree)
                if not sources:
                    _build_native(tree)
            sides = {"old": (old_tree, _commit(old_tree)),
                     "new": (new_tree, _commit(new_tree) + ("" if new else " + working tree"))}
            runs: list[dict[str, Any]] = []
            for i in range(pairs):
                pair: dict[str, Any] = {"started": time.strftime("%H:%M:%S", time.gmtime())}
                for side, (tree, _) in sides.items():
                    r = _one_run(tree, db.resolve(), trimmed, query, timeout, env)
                    pair[side] = {k: r.get(k) for k in ("n", "p50_ms", "p95_ms", "errors",
                                                        "query_code")}
                    print(f"[ab] pair {i + 1} {side}: n={r.get('n')} p50 {r.get('p50_ms')} ms "
                          f"p95 {r.get('p95_ms')} ms ({r['query_code']})", file=sys.stderr,
                          flush=True)
                runs.append(pair)
        finally:
            for tree in made:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                                str(tree)], check=False)
    summary: dict[str, Any] = {}
    for side in ("old", "new"):
        for stat in ("p50_ms", "p95_ms"):
            summary[f"{side}_{stat}_mean"] = round(statistics.fmean(
                float(p[side][stat]) for p in runs), 2)
    for stat in ("p50_ms", "p95_ms"):
        o, w = summary[f"old_{stat}_mean"], summary[f"new_{stat}_mean"]
        summary[f"{stat}_change"] = round((w - o) / o, 3) if o else None
    code = {side: sorted({str(p[side]["query_code"]) for p in runs}) for side in ("old", "new")}
    return {"query": query, "n": n, "pairs": pairs, "db": str(db), "inputs": str(inputs),
            "old": sides["old"][1], "new": sides["new"][1], "runs": runs, "summary": summary,
            "query_code": code, "same_code_kind": code["old"] == code["new"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", help="the commit (or any git ref) to compare against")
    ap.add_argument("--new", default=None, help="a second ref (default: the working tree)")
    ap.add_argument("--query", default="accountability")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--n", type=int, default=1000, help="inputs per run")
    ap.add_argument("--db", type=Path, default=SCALE1_RUN / "graph.lbdb")
    ap.add_argument("--inputs", type=Path, default=SCALE1_RUN / "inputs.json")
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--sources", action="store_true",
                    help="both sides from their sources (ACCGRAPH_NATIVE=0); by default each "
                         "side is compiled where its commit has graph.native")
    a = ap.parse_args(argv)
    given = scale1_inputs(a.db, a.inputs)
    result = compare(a.old, a.new, a.query, a.pairs, a.n, a.db, a.inputs, given,
                     sources=a.sources)
    s = result["summary"]
    print(f"{a.query}, {a.pairs} pairs of {a.n} inputs: p50 {s['old_p50_ms_mean']} -> "
          f"{s['new_p50_ms_mean']} ms ({s['p50_ms_change']:+.1%}), p95 "
          f"{s['old_p95_ms_mean']} -> {s['new_p95_ms_mean']} ms ({s['p95_ms_change']:+.1%})")
    if not result["same_code_kind"]:
        print(f"note: the sides ran different kinds of code ({result['query_code']}): the "
              "difference includes the compiler's; --sources compares like with like")
    print(f"written {write_result(a.results, f'ab-{a.query}', result)}")
    return result


if __name__ == "__main__":
    main()
