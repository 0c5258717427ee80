"""The measured parts of a benchmark run, each in its own process so that its peak memory
is its own: ``ingest``, ``engine`` (the named queries through ``GraphQueries`` on the
embedded store) and ``baseline`` (dicts or networkx). Each prints one JSON object.

    python -m bench.workers ingest  DATA DB [--mode bulk|loader]
    python -m bench.workers engine  DB INPUTS.json
    python -m bench.workers baseline dicts|networkx DATA INPUTS.json
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import dir_size_mib, peak_rss_mib, summary_ms

# Queries with a target (DESIGN/issue #7) and the others the product names.
ENGINE_QUERIES = ("chain", "accountability", "search", "paths", "linked", "timeline",
                  "profile", "neighbourhood")
HEAVY_QUERIES = ("gaps", "analytics")


def ingest(data: Path, db: Path, mode: str) -> dict[str, Any]:
    """Parse -> validate -> check references -> write -> commit, timed per stage."""
    from graph.embedded import EmbeddedStore

    store = EmbeddedStore(db)
    out: dict[str, Any] = {"mode": mode}
    t0 = time.perf_counter()
    if mode == "loader":
        from ingest.formats import ingest_path

        report = ingest_path(store, "native", data)
        t1 = time.perf_counter()
        out.update(records=report.records, rejected=len(report.rejected),
                   added=report.total("added"), total_s=round(t1 - t0, 3))
    else:
        from graph.bulk import bulk_write, is_empty
        from ingest.loader import LoadReport, diff_nodes, diff_rels
        from ingest.native import read_native

        bundle = read_native(data)
        t1 = time.perf_counter()
        in_graph = bundle.check_references(store)
        if bundle.problems:
            raise SystemExit(f"generated data rejected: {bundle.problems[:5]}")
        bundle.apply_extra_names(in_graph)
        nodes, rels = list(bundle.nodes.values()), list(bundle.rels.values())
        t2 = time.perf_counter()
        if is_empty(store):
            stats = bulk_write(store, nodes, rels)
            out["diff"] = "skipped: empty graph, every record is new"
        else:  # a graph that already holds data: the ordinary diff and upsert path
            report = LoadReport(str(data), "native")
            changed_n = diff_nodes(store, nodes, report, in_graph)
            changed_r = diff_rels(store, rels, report)
            store.write(changed_n, changed_r)
            stats = None
            out["diff"] = report.counts
        t3 = time.perf_counter()
        out.update(records=bundle.record_count, written=stats.total if stats else None, parse_s=round(t1 - t0, 3),
                   check_s=round(t2 - t1, 3), write_commit_s=round(t3 - t2, 3),
                   total_s=round(t3 - t0, 3))
    t_close = time.perf_counter()
    store.close()
    out["close_checkpoint_s"] = round(time.perf_counter() - t_close, 3)
    out["records_per_second"] = round(out["records"] / out["total_s"]) if out["total_s"] else None
    out["peak_rss_mib"] = peak_rss_mib()
    out["db_size_mib"] = dir_size_mib(db)
    return out


def _time_calls(fn: Callable[[Any], Any], inputs: list[Any], budget: float,
                name: str = "") -> dict[str, Any]:
    """Time ``fn`` on each input until the inputs or the time ``budget`` (s) run out."""
    lat: list[float] = []
    errors: dict[str, int] = {}
    sample = ""
    deadline = time.perf_counter() + budget
    for arg in inputs:
        if time.perf_counter() > deadline:
            break
        t0 = time.perf_counter()
        try:
            fn(arg)
        except Exception as exc:  # counted, not fatal: the figure says how many
            ename = type(exc).__name__
            errors[ename] = errors.get(ename, 0) + 1
            if not sample:
                sample = "".join(traceback.format_exception_only(exc)).strip()[:300]
        lat.append(time.perf_counter() - t0)
    out = summary_ms(lat)
    out["inputs_given"] = len(inputs)
    out["budget_exhausted"] = len(lat) < len(inputs)
    out["errors"] = errors
    print(f"[worker] {name}: {len(lat)} calls, p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms",
          file=sys.stderr, flush=True)
    if sample:
        out["error_sample"] = sample
    return out


def engine(db: Path, inputs: dict[str, list[Any]], budget: float,
           only: tuple[str, ...] = ENGINE_QUERIES) -> dict[str, Any]:
    from graph.embedded import EmbeddedStore
    from queries.service import GraphQueries

    store = EmbeddedStore(db, read_only=True)
    q = GraphQueries(store, include_restricted=True)
    out: dict[str, Any] = {"queries": {}, "warmup": {}}
    # one-off costs, paid once per process and per committed write
    if "search" in only:
        t0 = time.perf_counter()
        q.search(inputs["search"][0])
        out["warmup"]["search_index_build_s"] = round(time.perf_counter() - t0, 2)
        out["warmup"]["rss_after_index_mib"] = peak_rss_mib()
    if "paths" in only or "analytics" in only:
        a, b = inputs["paths"][0]
        t0 = time.perf_counter()
        q.paths(a, b)
        out["warmup"]["paths_projection_build_s"] = round(time.perf_counter() - t0, 2)
        out["warmup"]["rss_after_projection_mib"] = peak_rss_mib()
    calls: dict[str, Callable[[Any], Any]] = {
        "chain": lambda x: q.chain(x[0], x[1]),
        "accountability": lambda x: q.accountability(x),
        "search": lambda x: q.search(x),
        "paths": lambda x: q.paths(x[0], x[1]),
        "linked": lambda x: q.linked(x[0], at=x[1]),
        "timeline": lambda x: q.timeline(x),
        "profile": lambda x: q.profile(x),
        "neighbourhood": lambda x: q.neighbourhood(x),
        "gaps": lambda x: q.gaps(x),
        "analytics": lambda x: q.analytics(x, kinds=["Person", "Organization"]),
    }
    for name in only:
        if name not in inputs:
            continue
        gc.collect()
        out["queries"][name] = _time_calls(calls[name], inputs[name], budget, name)
    out["peak_rss_mib"] = peak_rss_mib()
    store.close()
    return out


def baseline(which: str, data: Path, inputs: dict[str, list[Any]], budget: float
             ) -> dict[str, Any]:
    from bench.baselines import load

    t0 = time.perf_counter()
    g = load(which, data)
    out: dict[str, Any] = {"baseline": which, "build_s": round(time.perf_counter() - t0, 2),
                           "rss_after_build_mib": peak_rss_mib(), "queries": {}}
    calls: dict[str, Callable[[Any], Any]] = {
        "chain": lambda x: g.chain(x[0], x[1]),
        "accountability": lambda x: g.accountability(x),
        "search": lambda x: g.search(x),
        "paths": lambda x: g.paths(x[0], x[1]),
    }
    for name, fn in calls.items():
        gc.collect()
        out["queries"][name] = _time_calls(fn, inputs[name], budget, f"{which} {name}")
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ingest")
    a.add_argument("data", type=Path)
    a.add_argument("db", type=Path)
    a.add_argument("--mode", default="bulk", choices=("bulk", "loader"))
    e = sub.add_parser("engine")
    e.add_argument("db", type=Path)
    e.add_argument("inputs", type=Path)
    e.add_argument("--budget", type=float, default=300, help="seconds per query")
    e.add_argument("--only", default=",".join(ENGINE_QUERIES))
    b = sub.add_parser("baseline")
    b.add_argument("which", choices=("dicts", "networkx"))
    b.add_argument("data", type=Path)
    b.add_argument("inputs", type=Path)
    b.add_argument("--budget", type=float, default=300, help="seconds per query")
    args = ap.parse_args()
    if args.cmd == "ingest":
        result = ingest(args.data, args.db, args.mode)
    elif args.cmd == "engine":
        result = engine(args.db, json.loads(args.inputs.read_text()), args.budget,
                        tuple(args.only.split(",")))
    else:
        result = baseline(args.which, args.data, json.loads(args.inputs.read_text()),
                          args.budget)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
