"""Render the tables of BENCHMARKS.md from a results file, so the published figures are
copied by a program, not by hand.

    python -m bench.report bench/results/latest.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _f(x: Any, nd: int = 1) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def _ratio(x: float | None) -> str:
    return _f(x, 3 if x is not None and x < 1 else 1)


def render(r: dict[str, Any]) -> str:
    out: list[str] = []
    d = r["data"]
    out.append(f"Run `{r['command']}` started {r['started']} on {r['machine']['cpus']} cores, "
               f"{r['machine']['engine']}, Python {r['machine']['python']}; "
               f"{d['nodes']:,} nodes and {d['relations']:,} relations (scale {r['scale']}, "
               f"seed {r['seed']}); total {r.get('seconds')} s; query code: "
               f"{r['machine'].get('query_code', 'the sources (before graph.native)')}.\n")
    out.append("| target (scale 1, 2 cores) | measured | target | met? |")
    out.append("|---|---:|---:|---|")
    for k, v in r["targets"].items():
        met = "n/a" if v["met"] is None else "yes" if v["met"] else \
            f"**no** (x{v.get('off_by_factor')})"
        out.append(f"| {k} | {_f(v['value'])} | {v['target']} | {met} |")
    ing = r.get("ingest", {})
    out.append("\n**Ingest** (`ingest_path(store, \"native\", folder)`, what `accgraph ingest "
               f"native` runs: parse -> validate -> check references -> write -> commit -> "
               f"matching; path taken: {ing.get('path', '-')}; buffer pool "
               f"{_f(ing.get('buffer_pool_mib'))} MiB):\n")
    out.append("| records | parse s | check s | write+commit s | match s | total s | records/s "
               "| CPU s (main + workers) | peak RSS MiB (main / worker) | db MiB |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    out.append(f"| {_f(ing.get('records'))} | {_f(ing.get('parse_s'))} | "
               f"{_f(ing.get('check_s'))} | {_f(ing.get('write_commit_s'))} | "
               f"{_f(ing.get('match_s'), 2)} | "
               f"{_f(ing.get('total_s'))} | {_f(ing.get('records_per_second'))} | "
               f"{_f(ing.get('cpu_self_s'))} + {_f(ing.get('cpu_workers_s'))} | "
               f"{_f(ing.get('peak_rss_mib'))} / {_f(ing.get('worker_peak_rss_mib'))} | "
               f"{_f(ing.get('db_size_mib'))} |")
    if ing.get("stages_s"):
        out.append("\nStages (s): " + ", ".join(f"{k} {v}" for k, v in ing["stages_s"].items())
                   + ".")
    lo = r.get("ingest_loader")
    if lo:
        out.append(f"\nThe record path (`ACCGRAPH_FAST_NATIVE=0`: the reader's Python records, "
                   f"the loader's diff, `write_changes`, matching) at scale "
                   f"{lo['scale']}: {_f(lo.get('records'))} records in {_f(lo.get('total_s'))} s"
                   f" = {_f(lo.get('records_per_second'))} records/s.")
    out.append("\n**Named queries** (p50 / p95 ms; `n` = random inputs run within the budget; "
               "ratio = engine / baseline at p95):\n")
    out.append("| query | n | engine p50 | engine p95 | dicts p50 | dicts p95 | networkx p50 | "
               "networkx p95 | x dicts | x networkx | errors |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    eng = r.get("engine", {}).get("queries", {})
    bl = r.get("baselines", {})
    for name, s in eng.items():
        if s.get("timed_out") or s.get("failed"):
            out.append(f"| {name} | 0 | {'timed out' if s.get('timed_out') else 'not finished'} | | | "
                       f"| | | | | {str(s.get('note'))[:90]} |")
            continue
        dq = bl.get("dicts", {}).get("queries", {}).get(name, {})
        xq = bl.get("networkx", {}).get("queries", {}).get(name, {})
        rat = r.get("ratios", {}).get(name, {})
        errs = s.get("errors") or ""
        if errs and s.get("error_sample"):
            errs = f"{errs} e.g. `{s['error_sample'][:80]}`"
        out.append(f"| {name} | {s['n']} | {_f(s['p50_ms'], 2)} | {_f(s['p95_ms'], 2)} | "
                   f"{_f(dq.get('p50_ms'), 3)} | {_f(dq.get('p95_ms'), 3)} | "
                   f"{_f(xq.get('p50_ms'), 3)} | {_f(xq.get('p95_ms'), 3)} | "
                   f"{_ratio(rat.get('engine_over_dicts_p95'))} | "
                   f"{_ratio(rat.get('engine_over_networkx_p95'))} | {errs} |")
    size = eng.get("accountability", {}).get("answer") or {}
    if size:
        out.append(f"\nAn accountability answer (median of {size['answers']}): "
                   f"{_f(size['actors_median'])} actors, {_f(size['notice_median'])} earlier "
                   f"incidents, {_f(size['json_kib_median'])} KiB of JSON (p95 "
                   f"{_f(size['json_kib_p95'])}), encoded in {_f(size['json_encode_ms_median'], 2)} "
                   f"ms: every actor carries its path of claims with their sources.")
    bands = (eng.get("accountability", {}).get("size_by_latency") or {})
    if bands:
        out.append(f"\nAccountability time by answer size (actors; {bands['answers']} timed "
                   f"answers, median {_f(bands['items_median'])} actors, p95 "
                   f"{_f(bands['items_p95'])}; the slowest 5 % have a median of "
                   f"{_f(bands['slowest_5pct_items_median'])}, the rest "
                   f"{_f(bands['rest_items_median'])}):\n")
        out.append("| actors | answers | p50 ms | p95 ms |\n|---|---:|---:|---:|")
        for b in bands["bands"]:
            out.append(f"| {b['items_from']}-{b['items_to']} | {b['answers']} | "
                       f"{_f(b['p50_ms'], 2)} | {_f(b['p95_ms'], 2)} |")
    w = r.get("engine", {}).get("warmup", {})
    if w:
        out.append(f"\nOne-off per query process (and per committed write): search index build "
                   f"{_f(w.get('search_index_build_s'))} s (RSS after it "
                   f"{_f(w.get('rss_after_index_mib'))} MiB); hierarchy cache build "
                   f"{_f(w.get('structure_build_s'))} s (RSS after it "
                   f"{_f(w.get('rss_after_structure_mib'))} MiB); paths projection build "
                   f"{_f(w.get('paths_projection_build_s'))} s (RSS after it "
                   f"{_f(w.get('rss_after_projection_mib'))} MiB).")
        peaks = {n: q.get("process_peak_rss_mib") for n, q in eng.items()
                 if q.get("process_peak_rss_mib")}
        if peaks:
            out.append("Peak RSS per query process (MiB): "
                       + ", ".join(f"{n} {_f(v)}" for n, v in peaks.items()) + ".")
    for b in ("dicts", "networkx"):
        x = bl.get(b)
        if x and not x.get("failed"):
            out.append(f"Baseline {b}: built from the files in {_f(x.get('build_s'))} s, peak "
                       f"{_f(x.get('peak_rss_mib'))} MiB.")
        elif x:
            out.append(f"Baseline {b}: failed: {x['failed'][:200]}")
    api = r.get("api") or {}
    if api.get("failed"):
        out.append(f"\n**API**: failed: {api['failed']}")
    elif api:
        out.append(f"\n**API** (`accgraph serve`, {api.get('workers', 1)} worker process(es), "
                   f"answer cache {api.get('answer_cache_mib') or 'off'}; ready (name index "
                   f"built) {api.get('ready_seconds')} s after start; load generator on the "
                   "same 2 cores, 127.0.0.1; every chain request distinct):\n")
        out.append("| load | clients | requests | seconds | req/s | p50 ms | p99 ms | errors |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")

        def row(name: str, s: dict[str, Any]) -> None:
            out.append(f"| {name} | {s.get('clients', '-')} | {s['requests']} | {s['seconds']} | "
                       f"{_f(s['throughput_rps'])} | {_f(s['p50_ms'])} | {_f(s['p99_ms'])} | "
                       f"{s['errors']} |")

        if api.get("health"):
            row("/health (generator ceiling)", api["health"])
        for c, s in (api.get("chain") or {}).items():
            row("chain", s | {"clients": s.get("clients", c)})
        if api.get("chain_hot"):
            row(f"chain, {api['chain_hot']['inputs']} inputs repeated (cache hits)",
                api["chain_hot"])
        if api.get("mixed"):
            row("mixed", api["mixed"])
        out.append(f"\nServer memory at the end: {api.get('server_mem')}.")
    return "\n".join(out)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json")
    print(render(json.loads(path.read_text())))
