"""The API phase of the benchmark, on its own, against an existing database.

    python -m bench.api_load DB INPUTS                          # 1, 4, 16 clients, 1 worker
    python -m bench.api_load DB INPUTS --workers 2 --seconds 20
    python -m bench.api_load DB INPUTS --answer-cache-mib 64    # cached and uncached loads

``INPUTS`` is the ``inputs.json`` a ``bench.run`` wrote (``bench/work/run-<scale>-<seed>/``).
It starts ``accgraph serve`` on 127.0.0.1 (waiting for ``/ready``: the name index is built at
start-up), then measures, each load bounded in requests and seconds:

1. ``health``: the load generator against ``/health`` (a constant answer) with the largest
   client count: the most this generator and server can do per second on this machine,
   the ceiling of every other figure (the generator shares the cores with the server);
2. ``chain``: ``GET /entities/{id}/chain?at=...`` as an anonymous caller at each client
   count, every request distinct (the n-th request asks input n mod N, its date moved by
   n div N days), so even with the answer cache on none of them is a repeat: this is the
   uncached figure, the one the >= 300 req/s target is judged on;
3. ``chain_hot`` (only with ``--answer-cache-mib``): the same at the largest client count
   over 20 inputs asked again and again: the cache-hitting figure, reported apart;
4. ``mixed``: every named query a portal serves, anonymous and lawyer callers
   (``bench.common.mixed_requests``, the soak's mix), for ``--mixed-seconds`` (120): the
   server's memory is read at its end, once the workers' bounded caches are full.

Results: printed as a table and written to ``bench/results/api-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.common import MIXED_SECONDS, RESULTS, WORK, MakeRequest, Server, load, mixed_requests

HOT_INPUTS = 20
MIXED_REQUESTS = 60_000  # the mixed load's bound in requests (in seconds: MIXED_SECONDS)


def _shift(at: str, days: int) -> str:
    """``at`` moved by ``days`` (for a full date; a year or year-month gets a year added)."""
    if not days:
        return at
    if len(at) == 10:
        return (dt.date.fromisoformat(at) + dt.timedelta(days=days)).isoformat()
    return f"{int(at[:4]) + days:04d}{at[4:]}"


def distinct_chain(inputs: list[list[str]]) -> MakeRequest:
    """Chain requests none of which repeats another (a cache-missing load)."""
    counter = [0]

    def make(_rng: random.Random) -> tuple[str, dict[str, str]]:
        n = counter[0]
        counter[0] += 1
        ref, at = inputs[n % len(inputs)]
        return f"/entities/{quote(ref, safe='')}/chain?at={_shift(at, n // len(inputs))}", {}

    return make


def api_phase(db: Path, inputs: dict[str, list[Any]], clients: list[int], max_requests: int,
              max_seconds: float, work: Path, *, workers: int = 1,
              answer_cache_mib: float = 0, mixed: bool = True,
              cold_caches: bool = True, mixed_seconds: float = MIXED_SECONDS,
              mixed_requests_max: int = MIXED_REQUESTS) -> dict[str, Any]:
    """Start the server over ``db`` and run the loads above; returns the figures. With
    ``cold_caches`` the server starts without the database's shared cache files (its
    workers build them, and their memory meanwhile is measured)."""
    extra = ["--answer-cache-mib", str(answer_cache_mib)] if answer_cache_mib else []
    server = Server(db, work / "server.log", workers=workers, extra=extra,
                    cold_caches=cold_caches)
    out: dict[str, Any] = {"workers": workers, "answer_cache_mib": answer_cache_mib,
                           "cold_caches": cold_caches,
                           "generator": "asyncio keep-alive HTTP/1.1 (bench.common.load)",
                           "chain": {}, "mixed": None}
    top = max(clients)
    try:
        server.start()
        out["ready_seconds"] = server.ready_seconds
        out["rss_after_start_mib"] = server.mem().get("rss_mib")
        out["health"] = load(server.base, lambda rng: ("/health", {}), top,
                             max_requests * 2, min(max_seconds, 10), seed=0).to_json()
        chain_inputs = inputs["chain"]

        def chain_req(rng: random.Random) -> tuple[str, dict[str, str]]:
            ref, at = rng.choice(chain_inputs)
            return f"/entities/{quote(ref, safe='')}/chain?at={at}", {}

        # warm up: first requests pay imports (and the first structure load)
        load(server.base, chain_req, 2, 20, 60)
        for c in clients:
            res = load(server.base, distinct_chain(chain_inputs), c, max_requests, max_seconds,
                       seed=c)
            out["chain"][str(c)] = res.to_json()
        if answer_cache_mib:
            hot = chain_inputs[:HOT_INPUTS]

            def hot_req(rng: random.Random) -> tuple[str, dict[str, str]]:
                ref, at = rng.choice(hot)
                return f"/entities/{quote(ref, safe='')}/chain?at={at}", {}

            out["chain_hot"] = {"inputs": len(hot), **load(
                server.base, hot_req, top, max_requests, max_seconds, seed=7).to_json()}
        if mixed:
            lawyer = {"Authorization": f"Bearer {server.keys['lawyer']}"}
            # long enough for the workers' bounded caches to fill: their memory levels off
            # after a few thousand questions each, and a shorter load reads it too low
            res = load(server.base, mixed_requests(inputs, lawyer), top, mixed_requests_max,
                       mixed_seconds, seed=99, ok=lambda code: code < 500)
            out["mixed"] = res.to_json()
        out["server_mem"] = server.mem()
    finally:
        server.stop()
    return out


def table(api: dict[str, Any]) -> str:
    lines = [(f"API: {api.get('workers', 1)} worker(s), answer cache "
              f"{api.get('answer_cache_mib') or 'off'}; ready after {api.get('ready_seconds')} s"),
             "| load | clients | requests | seconds | req/s | p50 ms | p99 ms | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]

    def row(name: str, s: dict[str, Any]) -> None:
        lines.append(f"| {name} | {s['clients']} | {s['requests']} | {s['seconds']} | "
                     f"{s['throughput_rps']} | {s['p50_ms']} | {s['p99_ms']} | {s['errors']} |")

    if api.get("health"):
        row("health (generator ceiling)", api["health"])
    for s in (api.get("chain") or {}).values():
        row("chain, distinct inputs (uncached)", s)
    if api.get("chain_hot"):
        row(f"chain, {api['chain_hot']['inputs']} inputs repeated (cache hits)", api["chain_hot"])
    if api.get("mixed"):
        row("mixed", api["mixed"])
    lines.append(f"server memory (peak_mib: the largest sum of the processes' PSS, sampled "
                 f"every 0.1 s from the start): {api.get('server_mem')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description="the API phase of the benchmark, on its own")
    ap.add_argument("db", type=Path, help="an existing database (it is not modified)")
    ap.add_argument("inputs", type=Path, help="inputs.json written by bench.run")
    ap.add_argument("--clients", default="1,4,16")
    ap.add_argument("--requests", type=int, default=3000, help="per load, at most")
    ap.add_argument("--seconds", type=float, default=30, help="per load, at most")
    ap.add_argument("--workers", type=int, default=1, help="server worker processes")
    ap.add_argument("--answer-cache-mib", type=float, default=0)
    ap.add_argument("--no-mixed", action="store_true", help="skip the mixed load")
    ap.add_argument("--mixed-seconds", type=float, default=MIXED_SECONDS,
                    help="the mixed load's bound in seconds (its requests: --mixed-requests)")
    ap.add_argument("--mixed-requests", type=int, default=MIXED_REQUESTS)
    ap.add_argument("--keep-caches", action="store_true",
                    help="start with the shared cache files an earlier start wrote (else "
                         "they are removed and the server builds them: a cold start)")
    ap.add_argument("--work", type=Path, default=WORK / "api-load",
                    help="where the server log goes")
    ap.add_argument("--results", type=Path, default=RESULTS)
    a = ap.parse_args(argv)
    if not a.db.exists():
        raise SystemExit(f"no database at {a.db}")
    a.work.mkdir(parents=True, exist_ok=True)
    inputs = json.loads(a.inputs.read_text(encoding="utf-8"))
    started = dt.datetime.now(dt.UTC)
    api = api_phase(a.db, inputs, [int(c) for c in a.clients.split(",")], a.requests,
                    a.seconds, a.work, workers=a.workers, answer_cache_mib=a.answer_cache_mib,
                    mixed=not a.no_mixed, cold_caches=not a.keep_caches,
                    mixed_seconds=a.mixed_seconds, mixed_requests_max=a.mixed_requests)
    result = {"started": started.isoformat(timespec="seconds"), "db": str(a.db),
              "command": "python -m bench.api_load " + " ".join(
                  argv if argv is not None else sys.argv[1:]), "api": api}
    a.results.mkdir(parents=True, exist_ok=True)
    path = a.results / f"api-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(table(api))
    print(f"written to {path}")
    return result


if __name__ == "__main__":
    main()
