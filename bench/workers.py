"""The measured parts of a benchmark run, each in its own process so that its peak memory
is its own: ``ingest``, ``engine`` (the named queries through ``GraphQueries`` on the
embedded store) and ``baseline`` (dicts or networkx). Each prints one JSON object.

    python -m bench.workers ingest  DATA DB [--mode product|loader]
    python -m bench.workers engine  DB INPUTS.json
    python -m bench.workers baseline dicts|networkx DATA INPUTS.json
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import dir_size_mib, pct, peak_rss_mib, summary_ms

# Queries with a target (DESIGN/issue #7) and the others the product names.
ENGINE_QUERIES = ("chain", "accountability", "search", "paths", "linked", "timeline",
                  "profile", "neighbourhood")
HEAVY_QUERIES = ("gaps", "analytics")


def ingest(data: Path, db: Path, mode: str) -> dict[str, Any]:
    """The product's ingest, timed: ``ingest_path(store, "native", DATA)``, what
    ``accgraph ingest native`` runs (parse -> validate -> check references -> write ->
    commit -> entity matching). ``product`` takes whichever path the product takes (the
    Arrow path for a folder of new CSV records); ``loader`` forces the record path
    (``ACCGRAPH_FAST_NATIVE=0``), the figure before the Arrow path existed. Stage times
    come from ``ingest_path``'s timing dict. Into an empty database the Arrow path builds
    a new database file and swaps it in (``first_load``: true); ``commit_s`` is then the
    checkpoint, rename and reopen, and ``copy_s`` the engine's auto-commit ``COPY``s."""
    import os
    import resource

    from graph.embedded import EmbeddedStore
    from ingest.formats import ingest_path

    if mode == "loader":
        os.environ["ACCGRAPH_FAST_NATIVE"] = "0"
    store = EmbeddedStore(db)
    out: dict[str, Any] = {"mode": mode, "match": os.environ.get("ACCGRAPH_MATCH", "1") != "0",
                           "buffer_pool_env": os.environ.get("ACCGRAPH_BUFFER_POOL"),
                           "load_buffer_pool_env": os.environ.get("ACCGRAPH_LOAD_BUFFER_POOL")}
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    report = ingest_path(store, "native", data, timings=timings)
    t1 = time.perf_counter()
    if report.rejected:
        raise SystemExit(f"generated data rejected: {[str(p) for p in report.rejected[:5]]}")
    out.update(records=report.records, added=report.total("added"),
               unchanged=report.total("unchanged"),
               written=(report.total("added") + report.total("updated")) if report.written else 0,
               path="arrow" if "write_commit_s" in timings else "record",
               # a first load into an empty graph: a new database file, swapped in
               first_load=any("swapped in" in n for n in report.notes),
               total_s=round(t1 - t0, 3), stages_s={k: round(v, 3) for k, v in timings.items()})
    # the keys bench/run.py prints (parse / check / write+commit). The Arrow path overlaps
    # parsing (worker processes) with COPY (here): parse_s is the time spent not copying.
    if out["path"] == "arrow":
        copy_commit = timings.get("copy_s", 0.0) + timings.get("commit_s", 0.0)
        out["parse_s"] = round(timings.get("read_write_s", 0.0) - timings.get("copy_s", 0.0)
                               - timings.get("final_checks_s", 0.0), 3)
        out["check_s"] = round(timings.get("final_checks_s", 0.0), 3)
        out["write_commit_s"] = round(copy_commit, 3)
    else:
        out["parse_s"] = out["stages_s"].get("parse_validate_s")
        out["check_s"] = None
        out["write_commit_s"] = out["stages_s"].get("check_diff_write_s")
    out["match_s"] = out["stages_s"].get("match_s")
    out["notes"] = report.notes
    t_close = time.perf_counter()
    store.close()
    out["close_checkpoint_s"] = round(time.perf_counter() - t_close, 3)
    out["records_per_second"] = round(out["records"] / out["total_s"]) if out["total_s"] else None
    out["peak_rss_mib"] = peak_rss_mib()
    # the Arrow path parses in worker processes: their peak is reported on its own
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["worker_peak_rss_mib"] = round(kids.ru_maxrss / 1024, 1)
    # CPU seconds (this process incl. the engine's threads, and the workers): on a shared
    # machine the wall-clock figure depends on the neighbours, these much less
    out["cpu_self_s"] = round(me.ru_utime + me.ru_stime, 1)
    out["cpu_workers_s"] = round(kids.ru_utime + kids.ru_stime, 1)
    out["db_size_mib"] = dir_size_mib(db)
    return out


def _time_calls(fn: Callable[[Any], Any], inputs: list[Any], budget: float,
                name: str = "", size: Callable[[Any], int] | None = None) -> dict[str, Any]:
    """Time ``fn`` on each input until the inputs or the time ``budget`` (s) run out.
    ``size`` counts each answer's items (``size_by_latency``): a ``len``, timed with it."""
    lat: list[float] = []
    sized: list[tuple[float, int]] = []
    errors: dict[str, int] = {}
    sample = ""
    deadline = time.perf_counter() + budget
    for arg in inputs:
        if time.perf_counter() > deadline:
            break
        items: int | None = None
        t0 = time.perf_counter()
        try:
            got = fn(arg)
            # counted (a len) and freed inside the timed region, as a discarded answer
            # always was: held to the next call, its freeing would be timed there
            items = size(got) if size is not None else None
            del got
        except Exception as exc:  # counted, not fatal: the figure says how many
            ename = type(exc).__name__
            errors[ename] = errors.get(ename, 0) + 1
            if not sample:
                sample = "".join(traceback.format_exception_only(exc)).strip()[:300]
        lat.append(time.perf_counter() - t0)
        if items is not None:
            sized.append((lat[-1], items))
    out = summary_ms(lat)
    if sized:
        out["size_by_latency"] = size_by_latency(sized)
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
    from graph.embedded import EmbeddedStore, serving_buffer_pool
    from graph.native import state as native_state
    from queries.gc_policy import settle
    from queries.service import GraphQueries

    # opened as an API worker opens it (its pool, its caches read through a build reader)
    store = EmbeddedStore(db, read_only=True, buffer_pool=serving_buffer_pool())
    q = GraphQueries(store, include_restricted=True)
    out: dict[str, Any] = {"queries": {}, "warmup": {}}
    # one-off costs, paid once per process and per committed write: (queries that need it,
    # what it builds, the call that builds it) -> <build>_s and rss_after_<rss>_mib
    warmups: list[tuple[set[str], str, str, Callable[[], Any]]] = [
        ({"search"}, "search_index_build", "index",
         lambda: q.search(inputs["search"][0])),
        # the hierarchy held in process (queries.service._structure)
        ({"chain", "accountability"}, "structure_build", "structure",
         lambda: q.chain(*inputs["chain"][0])),
        ({"paths", "analytics"}, "paths_projection_build", "projection",
         lambda: q.paths(*inputs["paths"][0])),
    ]
    for needed, build, rss, call in warmups:
        if needed & set(only):
            t0 = time.perf_counter()
            call()
            out["warmup"][f"{build}_s"] = round(time.perf_counter() - t0, 2)
            out["warmup"][f"rss_after_{rss}_mib"] = peak_rss_mib()
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
    settle()  # as the API server does after its warm-up (queries.gc_policy)
    for name in only:
        if name not in inputs:
            continue
        gc.collect()
        out["queries"][name] = _time_calls(
            calls[name], inputs[name], budget, name,
            size=(lambda a: len(a.actors)) if name == "accountability" else None)
        if name == "accountability":
            out["queries"][name]["answer"] = _answer_size(calls[name], inputs[name][:200])
    out["peak_rss_mib"] = peak_rss_mib()
    out["query_code"] = native_state()
    store.close()
    return out


def size_by_latency(sized: list[tuple[float, int]], step: int = 100) -> dict[str, Any]:
    """How an answer's time follows its size (items: an accountability answer's actors),
    over the timed calls: the sizes of the slowest 5 % against the rest, and the median
    and p95 time of the answers in each band of ``step`` items. Why: accountability
    misses its p95 target, and the bands say whether a tail of large answers does it or
    every size does, in the answer's own terms (percentiles per band, not a fitted line:
    a few calls that meet a garbage collection would tilt a line)."""
    by_time = sorted(sized)
    cut = max(1, len(by_time) // 20)
    slow, rest = by_time[-cut:], by_time[:-cut] or by_time
    bands: dict[int, list[float]] = {}
    for t, n in sized:
        bands.setdefault(n // step, []).append(t * 1000)
    return {"answers": len(sized), "step": step,
            "items_median": statistics.median(n for _, n in sized),
            "items_p95": pct([n for _, n in sized], 95),
            "slowest_5pct_items_median": statistics.median(n for _, n in slow),
            "rest_items_median": statistics.median(n for _, n in rest),
            "bands": [{"items_from": b * step, "items_to": (b + 1) * step - 1,
                       "answers": len(ms), "p50_ms": round(pct(ms, 50) or 0.0, 2),
                       "p95_ms": round(pct(ms, 95) or 0.0, 2)}
                      for b, ms in sorted(bands.items())]}


def _answer_size(fn: Callable[[Any], Any], inputs: list[Any]) -> dict[str, Any]:
    """How big the answers are (after the timed calls, not timed with them): actors,
    notice items, bytes of JSON and the time to encode it, medians over ``inputs``. An
    accountability answer carries every actor's path with its claims and sources, and its
    size bounds how fast it can be built and sent."""
    import statistics

    actors, notice, sizes, encode = [], [], [], []
    for arg in inputs:
        try:
            ans = fn(arg)
        except Exception:  # counted by the timed run already
            continue
        actors.append(len(ans.actors))
        notice.append(len(ans.notice))
        t0 = time.perf_counter()
        text = ans.model_dump_json()
        encode.append(time.perf_counter() - t0)
        sizes.append(len(text))
    if not sizes:
        return {}
    return {"answers": len(sizes), "actors_median": statistics.median(actors),
            "notice_median": statistics.median(notice),
            "json_kib_median": round(statistics.median(sizes) / 1024, 1),
            "json_kib_p95": round(sorted(sizes)[int(0.95 * (len(sizes) - 1))] / 1024, 1),
            "json_encode_ms_median": round(statistics.median(encode) * 1000, 2)}


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
    a.add_argument("--mode", default="product", choices=("product", "loader"))
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
