"""How fast a named query can get from keeping answer parts alone: the same inputs asked
again in one process, with the bounds of what is kept as shipped or raised.

    python -m bench.cache_floor [--query accountability] [--n 1000] [--passes 2]
                                [--kept N] [--parts N] [--rows N] [--db ...] [--inputs ...]

Why: an accountability answer keeps claims, references and organisations' parts for the
next one (``queries.kept``), within bounds set by the server's memory. Whether a bigger
bound (or any cache) could meet a latency target is answered by asking the same inputs a
second time: a later pass finds everything a cache could give it, so its p95 is the
lowest any caching reaches, and what is left is the cost of building the answer.
``--kept`` (claims and references per half), ``--parts`` (organisations' parts per
half) and ``--rows`` (structure rows, both halves) replace the shipped bounds in this
process only; the anonymous memory each pass adds says what they cost.

Each answer's time in the engine (``EmbeddedStore.execute``: the named queries and node
look-ups) is timed apart, and each pass also gives the p50/p95 of the answers' time
without it: what is left if every link the answer reads came from the process instead
(which costs memory of its own), so one run says what keeping and what moving the links
into the process could do, together. Prints each pass's figures and writes
``bench/results/cache-floor-<query>-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, SCALE1_RUN, scale1_inputs, summary_ms, write_result

QUERIES = ("accountability", "chain")  # the two that keep answer parts (queries.kept)


def anon_mib() -> float:
    """This process's anonymous resident memory (RssAnon): what kept objects occupy,
    without the shared, memory-mapped cache files."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure(db: Path, inputs: dict[str, list[Any]], query: str, n: int, passes: int,
            kept: int | None, parts: int | None, rows: int | None) -> dict[str, Any]:
    import queries.kept as kept_mod
    import queries.structure as structure_mod

    # set before the first question builds the kept sets and the structure
    bounds = {"kept": kept_mod.KEPT_PER_KIND, "parts": kept_mod.PARTS_KEPT,
              "rows": structure_mod.STRUCTURE_CACHED}
    if kept is not None:
        kept_mod.KEPT_PER_KIND = bounds["kept"] = kept
    if parts is not None:
        kept_mod.PARTS_KEPT = bounds["parts"] = parts
    if rows is not None:
        structure_mod.STRUCTURE_CACHED = bounds["rows"] = rows

    from graph.embedded import EmbeddedStore, serving_buffer_pool
    from graph.native import state
    from queries.gc_policy import settle
    from queries.service import GraphQueries

    store = EmbeddedStore(db, read_only=True, buffer_pool=serving_buffer_pool())
    in_engine = [0.0]
    execute = store.execute

    def timed_execute(cypher: str, params: Any = None) -> list[dict[str, Any]]:
        t0 = time.perf_counter()
        try:
            return execute(cypher, params)
        finally:
            in_engine[0] += time.perf_counter() - t0

    # an instance attribute: ``run`` and ``get_nodes`` reach the engine through it
    store.execute = timed_execute  # type: ignore[method-assign]
    q = GraphQueries(store, include_restricted=True)
    calls = {"accountability": lambda x: q.accountability(x),
             "chain": lambda x: q.chain(x[0], x[1])}
    fn, asked = calls[query], inputs[query][:n]
    q.chain(*inputs["chain"][0])  # the structure, built as the benchmark's warm-up does
    settle()
    out: dict[str, Any] = {"query": query, "n": len(asked), "bounds": bounds, "passes": [],
                           "query_code": state()}
    for i in range(passes):
        before = anon_mib()
        lat: list[float] = []
        engine: list[float] = []
        for x in asked:
            in_engine[0] = 0.0
            t0 = time.perf_counter()
            fn(x)
            lat.append(time.perf_counter() - t0)
            engine.append(in_engine[0])
        s = summary_ms(lat)
        s["anon_added_mib"] = round(anon_mib() - before, 1)
        s["engine_ms_mean"] = round(sum(engine) / len(engine) * 1000, 3) if engine else 0.0
        rest = summary_ms([t - e for t, e in zip(lat, engine)])
        s["without_engine_p50_ms"], s["without_engine_p95_ms"] = rest["p50_ms"], rest["p95_ms"]
        out["passes"].append(s)
        print(f"[cache_floor] pass {i + 1}: p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, "
              f"+{s['anon_added_mib']} MiB; without the engine's "
              f"{s['engine_ms_mean']} ms an answer: p50 {s['without_engine_p50_ms']}, "
              f"p95 {s['without_engine_p95_ms']}", file=sys.stderr, flush=True)
    out["anon_mib"] = anon_mib()
    store.close()
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--query", default="accountability", choices=QUERIES)
    ap.add_argument("--n", type=int, default=1000, help="inputs per pass")
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--kept", type=int, default=None, help="claims/references per half")
    ap.add_argument("--parts", type=int, default=None, help="organisations' parts per half")
    ap.add_argument("--rows", type=int, default=None, help="structure rows kept")
    ap.add_argument("--db", type=Path, default=SCALE1_RUN / "graph.lbdb")
    ap.add_argument("--inputs", type=Path, default=SCALE1_RUN / "inputs.json")
    ap.add_argument("--results", type=Path, default=RESULTS)
    a = ap.parse_args(argv)
    inputs = scale1_inputs(a.db, a.inputs)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = measure(a.db, inputs, a.query, a.n, a.passes, a.kept, a.parts, a.rows)
    out.update(db=str(a.db), inputs=str(a.inputs), started=started)
    path = write_result(a.results, f"cache-floor-{a.query}", out)
    print(" | ".join(f"pass {i + 1}: p50 {p['p50_ms']} p95 {p['p95_ms']} ms (without the "
                     f"engine {p['without_engine_p50_ms']} / {p['without_engine_p95_ms']})"
                     for i, p in enumerate(out["passes"])))
    print(f"written {path}")
    return out


if __name__ == "__main__":
    main()
