"""The soak: the API under a bounded concurrent mixed load for several minutes.

    python -m bench.soak --scale 0.1 --minutes 10 --clients 8      # the documented soak
    python -m bench.soak --scale 0.01 --minutes 0.25 --clients 4   # the CI smoke

It generates (or reuses) the synthetic graph, bulk-loads it into a fresh database, starts
``accgraph serve`` on 127.0.0.1 and drives it with ``--clients`` concurrent clients issuing a
mix of chain, accountability, search, profile, linked and paths requests as anonymous and
lawyer callers, in windows of ``--window`` seconds. After every window it records the
requests, errors (5xx or transport errors; a 404 for a restricted record asked by an
anonymous caller is a correct answer), p50/p99 and the server's resident memory.

Pass criteria (written into the result and the exit code):
- zero errors;
- memory: no growth that goes on, and a ceiling. Over the second half of the windows the
  server's memory grows by at most ``--mem-growth-mib`` (default 150 MiB), and no window is
  above its memory when ready + ``--buffer-pool-mib`` + ``--mem-growth-mib``: the engine's
  buffer pool fills with the pages the requests touch and then stays full, so memory rises
  over the first minutes and levels off (a 30-minute soak showed it), while a leak would
  keep rising. Memory is the sum of the server processes' PSS (shared pages divided among
  the processes that map them, so the caches the workers map together count once;
  ``bench.common.Server.mem``), RSS where PSS cannot be read. The growth over the first
  window is still reported (``memory_growth_mib``). The server runs with
  ``--threads 2 --buffer-pool-mib 512`` by default: the engine keeps buffer-pool frames it
  used for query intermediates resident, so RSS grows towards start-up + pool size with the
  peak of concurrent queries (with 40 threads and a 1 GiB pool that looked like a leak:
  488 -> 918 MiB in 4 minutes);
- stable p99: no window's p99 is above ``--p99-factor`` (default 3) times the median of
  the windows' p99.
Results go to bench/results/soak-<timestamp>.json (and soak-latest.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import Server, load, mixed_requests, run_json
from bench.run import RESULTS, WORK, ensure_data, make_inputs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="accountability-graph API soak (issue #7)")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--window", type=float, default=30, help="seconds per measured window")
    ap.add_argument("--max-requests", type=int, default=2_000_000, help="overall bound")
    ap.add_argument("--mem-growth-mib", type=float, default=150)
    ap.add_argument("--p99-factor", type=float, default=3.0)
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--workers", type=int, default=1, help="server worker processes")
    ap.add_argument("--threads", type=int, default=2,
                    help="request threads (concurrent engine queries) per worker")
    ap.add_argument("--buffer-pool-mib", type=int, default=512,
                    help="engine buffer pool of the server (its memory grows up to about "
                         "this much above the start-up size, then stays)")
    a = ap.parse_args(argv)

    work = WORK / f"soak-{a.scale}-{a.seed}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    folder, info = ensure_data(a.scale, a.seed)
    db = work / "graph.lbdb"
    ingest = run_json(["-m", "bench.workers", "ingest", str(folder), str(db)], 7200,
                      env={"ACCGRAPH_BUFFER_POOL": str(4 << 30)})
    inputs = make_inputs(folder, 2000, 0, a.seed)
    started = dt.datetime.now(dt.UTC)
    server = Server(db, work / "server.log", workers=a.workers,
                    extra=["--threads", str(a.threads), "--buffer-pool-mib",
                           str(a.buffer_pool_mib)])
    windows: list[dict[str, Any]] = []
    ready_mem: dict[str, float] = {}
    try:
        server.start()
        ready_mem = server.mem()
        print(f"[soak] server ready after {server.ready_seconds} s, pss "
              f"{ready_mem.get('pss_mib')} MiB, rss {ready_mem.get('rss_mib')} MiB",
              file=sys.stderr, flush=True)
        lawyer = {"Authorization": f"Bearer {server.keys['lawyer']}"}

        request = mixed_requests(inputs, lawyer)

        deadline = time.monotonic() + a.minutes * 60
        left = a.max_requests
        i = 0
        while time.monotonic() < deadline and left > 0:
            span = min(a.window, max(1.0, deadline - time.monotonic()))
            res = load(server.base, request, a.clients, left, span, seed=1000 + i,
                       ok=lambda code: code < 500)
            left -= res.requests
            w = res.to_json()
            w["window"] = i
            w["server_mem"] = server.mem()
            windows.append(w)
            print(f"[soak] window {i}: {w['requests']} req, {w['throughput_rps']} req/s, "
                  f"p99 {w['p99_ms']} ms, errors {w['errors']}, pss "
                  f"{w['server_mem'].get('pss_mib')} MiB, rss "
                  f"{w['server_mem'].get('rss_mib')} MiB", file=sys.stderr, flush=True)
            i += 1
    finally:
        server.stop()

    errors = sum(w["errors"] for w in windows)
    # judged on PSS (each shared page divided among the processes mapping it: the caches
    # the workers share are counted once), RSS where PSS cannot be read
    mem = [w["server_mem"].get("pss_mib") or w["server_mem"].get("rss_mib") or 0
           for w in windows]
    p99s = [w["p99_ms"] for w in windows if w["p99_ms"] is not None]
    start_mem = ready_mem.get("pss_mib") or ready_mem.get("rss_mib") or 0.0
    median_p99 = statistics.median(p99s) if p99s else None
    worst = max(p99s) if p99s else None
    checks = {
        "zero_errors": errors == 0,
        # each worker holds a pool of its own
        **memory_checks(mem, start_mem, a.buffer_pool_mib * a.workers, a.mem_growth_mib),
        "p99_median_ms": median_p99,
        "p99_worst_ms": worst,
        "p99_stable": bool(median_p99 and worst is not None
                           and worst <= a.p99_factor * median_p99),
    }
    ok = checks["zero_errors"] and checks["memory_within_bound"] and checks["p99_stable"]
    result = {
        "started": started.isoformat(timespec="seconds"), "scale": a.scale, "seed": a.seed,
        "command": "python -m bench.soak " + " ".join(argv if argv is not None else sys.argv[1:]),
        "data": {k: v for k, v in info.items() if k != "files"},
        "ingest": ingest, "clients": a.clients, "minutes": a.minutes,
        "server": {"workers": a.workers, "threads": a.threads,
                   "buffer_pool_mib": a.buffer_pool_mib, "ready_seconds": server.ready_seconds,
                   "ready_mem": ready_mem},
        "bounds": {"mem_growth_mib": a.mem_growth_mib, "p99_factor": a.p99_factor},
        "requests": sum(w["requests"] for w in windows), "errors": errors,
        "windows": windows, "checks": checks, "passed": ok,
    }
    a.results.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(result, indent=1)
    (a.results / f"soak-{stamp}-scale{a.scale}.json").write_text(text, encoding="utf-8")
    (a.results / "soak-latest.json").write_text(text, encoding="utf-8")
    print(json.dumps({"passed": ok, **checks, "requests": result["requests"]}))
    return 0 if ok else 1


def memory_checks(mem: list[float], start: float, pool_mib: float, bound_mib: float
                  ) -> dict[str, Any]:
    """The soak's memory verdict over the windows' memory ``mem`` (MiB), the server's at
    start-up ``start``, its engine pools (all workers') and the growth bound. The engine's
    buffer pool fills with the pages requests touch until it is full (memory levels off
    near start-up + pool):
    a leak is growth that goes on, so the bound is judged on the second half of the windows,
    and every window stays under the ceiling start-up + pool + bound."""
    late = (mem[-1] - mem[len(mem) // 2]) if len(mem) > 1 else 0.0
    ceiling = start + pool_mib + bound_mib
    top = max(mem, default=0.0)
    return {"memory_growth_mib": round((mem[-1] - mem[0]) if len(mem) > 1 else 0.0, 1),
            "memory_growth_second_half_mib": round(late, 1),
            "memory_ceiling_mib": round(ceiling, 1), "memory_max_mib": round(top, 1),
            "memory_within_bound": late <= bound_mib and top <= ceiling}


if __name__ == "__main__":
    raise SystemExit(main())
