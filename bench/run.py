"""The benchmark: one command, one graph, every figure and ratio (docs/benchmarks.md).

    python -m bench.run --scale 1          # the full run (about 1M nodes / 3M relations)
    python -m bench.run --scale 0.01 --n 50 --api-requests 200   # a smoke (CI)

Steps, all on the same generated graph in the same run:
 1. generate the synthetic native-format folder (bench/generate.py; cached per scale+seed);
 2. ingest it end to end into a fresh embedded database (parse -> validate -> check
    references -> bulk write -> commit), in its own process; and, for the ratio, the
    current ``ingest_path`` write path on a small graph;
 3. draw random inputs (seeded) and time every named query through ``GraphQueries``
    (one process), then the same questions with plain dicts and with networkx (one
    process each), so every latency is also a ratio to both baselines;
 4. serve the API (``accgraph serve``) and load the chain endpoint with 1, 4 and 16
    concurrent clients from 127.0.0.1 (bounded in requests and seconds), then a mixed
    load with 16 clients (``bench/api_load.py``; ``--api-only DB INPUTS`` runs just this
    step against an existing database);
 5. write bench/results/<timestamp>.json and bench/results/latest.json and print a table.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import MIXED_SECONDS, REPO, RESULTS, WORK, run_json
from bench.generate import generate
from bench.workers import ENGINE_QUERIES, HEAVY_QUERIES

BENCH = REPO / "bench"
DATA = BENCH / "data"

TARGETS = {  # issue #7, at scale 1 on this 2-core machine
    "ingest_records_per_second": (">=", 100_000),
    "chain_p95_ms": ("<=", 5.0),
    "accountability_p95_ms": ("<=", 10.0),
    "search_p95_ms": ("<=", 5.0),
    "paths_p95_ms": ("<=", 20.0),
    "api_chain_rps_16_clients": (">=", 300.0),
    "api_chain_errors_16_clients": ("<=", 0),
    "peak_memory_mib": ("<", 2048.0),
}
AUTHORITIES = ("OFAC", "EU", "UK", "UN", "CA", "AU")


def ensure_data(scale: float, seed: int) -> tuple[Path, dict[str, Any]]:
    folder = DATA / f"scale-{scale}-seed-{seed}"
    manifest = folder / "manifest.json.txt"
    if manifest.exists():
        info = json.loads(manifest.read_text())
        if info.get("scale") == scale and info.get("seed") == seed:
            info["cached"] = True
            return folder, info
    return folder, generate(scale, seed, folder)


def _ids(folder: Path, kind: str, cols: tuple[str, ...] = ("id",)) -> list[tuple[str, ...]]:
    with open(folder / f"{kind}.csv", newline="", encoding="utf-8") as f:
        return [tuple(row[c] for c in cols) for row in csv.DictReader(f)]


def make_inputs(folder: Path, n: int, n_heavy: int, seed: int) -> dict[str, list[Any]]:
    """Random inputs for every named query, drawn from the generated folder (seeded)."""
    r = random.Random(seed)
    people = _ids(folder, "Person", ("id", "name", "aliases"))
    officials = [p for p in people if p[0].startswith("person:off")]
    victims = [p for p in people if p[0].startswith("person:v")]
    orgs = [o[0] for o in _ids(folder, "Organization")]
    cases = [c[0] for c in _ids(folder, "Case")]
    incidents = [i[0] for i in _ids(folder, "Incident")]

    def date() -> str:
        return f"{r.randint(1985, 2024)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"

    def name_text() -> str:
        p = r.choice(people)
        x = r.random()
        if x < 0.4:
            return p[1]
        if x < 0.7:
            return p[1].split()[-1]  # surname only: many candidates
        return p[2].split(";")[0] or p[1]  # the Persian-script spelling

    def entity() -> str:
        pool = r.choice((officials, victims, orgs, cases, incidents))
        item = r.choice(pool)
        return item if isinstance(item, str) else item[0]

    def pair() -> list[str]:
        x = r.random()
        if x < 0.5:
            return [r.choice(officials)[0], r.choice(officials)[0]]
        if x < 0.75:
            return [r.choice(officials)[0], r.choice(victims)[0]]
        return [r.choice(orgs), r.choice(cases)]

    return {
        "chain": [[r.choice(officials)[0], date()] for _ in range(n)],
        "accountability": [r.choice(victims)[0] if r.random() < 0.5 else r.choice(incidents)
                           for _ in range(n)],
        "search": [name_text() for _ in range(n)],
        "paths": [pair() for _ in range(n)],
        "linked": [[r.choice(orgs), date() if r.random() < 0.5 else None] for _ in range(n)],
        "timeline": [entity() for _ in range(n)],
        "profile": [entity() for _ in range(n)],
        "neighbourhood": [entity() for _ in range(n)],
        "gaps": [AUTHORITIES[i % len(AUTHORITIES)] for i in range(n_heavy)],
        "analytics": [("degree", "betweenness")[i % 2] for i in range(max(2, n_heavy // 5))],
    }


def api_phase(db: Path, inputs: dict[str, list[Any]], clients: list[int], max_requests: int,
              max_seconds: float, work: Path, *, workers: int = 1,
              answer_cache_mib: float = 0, mixed_seconds: float = MIXED_SECONDS
              ) -> dict[str, Any]:
    """Step 4 (``bench.api_load``, also runnable alone: ``--api-only DB INPUTS``)."""
    from bench.api_load import api_phase as run_api

    return run_api(db, inputs, clients, max_requests, max_seconds, work, workers=workers,
                   answer_cache_mib=answer_cache_mib, mixed_seconds=mixed_seconds)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or not b:
        return None
    x = a / b
    return round(x, 3) if x < 1 else round(x, 1)


def evaluate(results: dict[str, Any]) -> dict[str, Any]:
    q = results.get("engine", {}).get("queries", {})
    api = results.get("api") or {}
    c16 = (api.get("chain") or {}).get("16") or {}
    mems = [results.get("ingest", {}).get("peak_rss_mib"),
            results.get("engine", {}).get("peak_rss_mib"),
            (api.get("server_mem") or {}).get("peak_mib")]
    measured = {
        "ingest_records_per_second": results.get("ingest", {}).get("records_per_second"),
        "chain_p95_ms": q.get("chain", {}).get("p95_ms"),
        "accountability_p95_ms": q.get("accountability", {}).get("p95_ms"),
        "search_p95_ms": q.get("search", {}).get("p95_ms"),
        "paths_p95_ms": q.get("paths", {}).get("p95_ms"),
        "api_chain_rps_16_clients": c16.get("throughput_rps"),
        "api_chain_errors_16_clients": c16.get("errors"),
        "peak_memory_mib": max((m for m in mems if m), default=None),
    }
    out = {}
    for key, (op, target) in TARGETS.items():
        value = measured[key]
        if value is None:
            out[key] = {"target": f"{op} {target}", "value": None, "met": None}
            continue
        met = value >= target if op == ">=" else value <= target if op == "<=" else value < target
        if key.endswith("errors_16_clients"):
            miss = value
        elif op == ">=":
            miss = round(target / value, 2) if value else None
        else:
            miss = round(value / target, 2)
        out[key] = {"target": f"{op} {target}", "value": value, "met": met,
                    **({} if met else {"off_by_factor": miss})}
    return out


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    eng = results.get("engine", {}).get("queries", {})
    for name in ("chain", "accountability", "search", "paths"):
        row: dict[str, Any] = {}
        for b in ("dicts", "networkx"):
            bq = results.get("baselines", {}).get(b, {}).get("queries", {}).get(name, {})
            for p in ("p50_ms", "p95_ms"):
                row[f"engine_over_{b}_{p[:3]}"] = _ratio(eng.get(name, {}).get(p), bq.get(p))
        out[name] = row
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description="accountability-graph benchmark (issue #7)")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--n", type=int, default=1000, help="random inputs per named query")
    ap.add_argument("--n-heavy", type=int, default=12,
                    help="runs of the whole-graph questions (gaps, analytics)")
    ap.add_argument("--query-seconds", type=float, default=300,
                    help="time budget per named query (the figures say how many inputs ran)")
    ap.add_argument("--heavy-seconds", type=float, default=60,
                    help="time budget for gaps and analytics (killed at 3x + 120 s)")
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--api-requests", type=int, default=3000, help="per client level")
    ap.add_argument("--api-seconds", type=float, default=30, help="per client level")
    ap.add_argument("--loader-scale", type=float, default=0.01,
                    help="scale at which the current ingest_path write path is measured")
    ap.add_argument("--ingest-pool", type=int, default=4 << 30,
                    help="engine buffer pool (bytes) of the ingest process")
    ap.add_argument("--skip", default="", help="comma list of: loader,baselines,api")
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--timeout", type=float, default=7200, help="per step, seconds")
    ap.add_argument("--mixed-seconds", type=float, default=MIXED_SECONDS,
                    help="the API step's mixed load, seconds: the server's memory is read "
                         "at its end (its bounded caches fill over a few thousand questions)")
    ap.add_argument("--api-workers", type=int, default=1,
                    help="server worker processes for the API step (>1: read-only workers)")
    ap.add_argument("--answer-cache-mib", type=float, default=0,
                    help="turn the server's answer cache on (the API step then also "
                         "measures a cache-hitting load; the headline stays uncached)")
    ap.add_argument("--api-only", nargs=2, type=Path, metavar=("DB", "INPUTS"),
                    help="only the API step, against an existing database and inputs.json "
                         "(nothing is generated or deleted); same as python -m bench.api_load")
    a = ap.parse_args(argv)
    if a.api_only:
        from bench.api_load import main as api_main

        args = [str(a.api_only[0]), str(a.api_only[1]), "--clients", a.clients,
                "--requests", str(a.api_requests), "--seconds", str(a.api_seconds),
                "--workers", str(a.api_workers), "--answer-cache-mib", str(a.answer_cache_mib),
                "--mixed-seconds", str(a.mixed_seconds), "--results", str(a.results)]
        return api_main(args)
    skip = set(filter(None, a.skip.split(",")))
    work = WORK / f"run-{a.scale}-{a.seed}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    from graph.native import state as native_state  # (the workers decide as this does)

    started = dt.datetime.now(dt.UTC)
    results: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"), "scale": a.scale, "seed": a.seed,
        "command": "python -m bench.run " + " ".join(argv if argv is not None else
                                                      sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "engine": _engine_version(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
                    "query_code": native_state()},
    }
    folder, info = ensure_data(a.scale, a.seed)
    results["data"] = {k: v for k, v in info.items() if k != "files"} | {"files": info["files"]}
    db = work / "graph.lbdb"
    print(f"[bench] ingest {folder} -> {db}", flush=True)
    # one atomic transaction must fit in the buffer pool (graph/bulk.py): size it to the load
    results["ingest"] = run_json(["-m", "bench.workers", "ingest", str(folder), str(db)],
                                 a.timeout, env={"ACCGRAPH_BUFFER_POOL": str(a.ingest_pool)})
    results["ingest"]["buffer_pool_mib"] = a.ingest_pool >> 20
    save(results, a.results)
    if "loader" not in skip:
        small, _ = ensure_data(a.loader_scale, a.seed)
        lo = run_json(["-m", "bench.workers", "ingest", str(small), str(work / "loader.lbdb"),
                       "--mode", "loader"], a.timeout)
        results["ingest_loader"] = {"scale": a.loader_scale, **lo}
    inputs = make_inputs(folder, a.n, a.n_heavy, a.seed)
    (work / "inputs.json").write_text(json.dumps(inputs), encoding="utf-8")
    # every named query in its own process: a crash or a hang costs that query only
    results["engine"] = {"queries": {}, "warmup": {}, "peak_rss_mib": None}
    for name in ENGINE_QUERIES + HEAVY_QUERIES:
        heavy = name in HEAVY_QUERIES
        budget = a.heavy_seconds if heavy else a.query_seconds
        limit = budget * 3 + 600  # the projection build (paths, analytics) comes first
        print(f"[bench] engine {name}", flush=True)
        try:
            r = run_json(["-m", "bench.workers", "engine", str(db), str(work / "inputs.json"),
                          "--budget", str(budget), "--only", name], limit)
            results["engine"]["queries"][name] = {**r["queries"][name],
                                                  "process_peak_rss_mib": r["peak_rss_mib"]}
            results["engine"]["warmup"].update(r["warmup"])
            results["engine"]["peak_rss_mib"] = max(results["engine"]["peak_rss_mib"] or 0,
                                                    r["peak_rss_mib"])
        except subprocess.TimeoutExpired:
            results["engine"]["queries"][name] = {
                "timed_out": True, "n": 0, "note": f"not finished within {limit:.0f} s"}
        except RuntimeError as exc:
            results["engine"]["queries"][name] = {"failed": True, "n": 0, "note": str(exc)}
        save(results, a.results)
    results["baselines"] = {}
    if "baselines" not in skip:
        for which in ("dicts", "networkx"):
            print(f"[bench] baseline {which}", flush=True)
            try:
                results["baselines"][which] = run_json(
                    ["-m", "bench.workers", "baseline", which, str(folder),
                     str(work / "inputs.json"), "--budget", str(a.query_seconds)], a.timeout)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                results["baselines"][which] = {"failed": str(exc), "queries": {}}
            save(results, a.results)
    if "api" not in skip:
        print("[bench] API load", flush=True)
        try:
            results["api"] = api_phase(db, inputs, [int(c) for c in a.clients.split(",")],
                                       a.api_requests, a.api_seconds, work,
                                       workers=a.api_workers,
                                       answer_cache_mib=a.answer_cache_mib,
                                       mixed_seconds=a.mixed_seconds)
        except Exception as exc:  # noqa: BLE001 - recorded in the results
            results["api"] = {"failed": f"{type(exc).__name__}: {exc}"}
    results["ratios"] = ratios(results)
    results["targets"] = evaluate(results)
    results["seconds"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    a.results.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(results, indent=1)
    (a.results / f"{stamp}-scale{a.scale}.json").write_text(text, encoding="utf-8")
    (a.results / "partial.json").unlink(missing_ok=True)
    (a.results / "latest.json").write_text(
        text, encoding="utf-8")
    from bench.report import render

    print(render(results))  # the tables BENCHMARKS.md shows
    return results


def save(results: dict[str, Any], where: Path) -> None:
    """Partial results after every step, so a crash late in a long run loses nothing."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "partial.json").write_text(json.dumps(results, indent=1), encoding="utf-8")


def _engine_version() -> str:
    try:
        import importlib.metadata as md

        return f"ladybug {md.version('ladybug')}"
    except Exception:  # pragma: no cover
        return "unknown"


if __name__ == "__main__":
    main()
