"""Sanctions-gap questions asked of a multi-worker server: how long the first answer takes,
how long the others take, and the server's memory before, at its peak and after.

    python -m bench.gaps_server [--db ...] [--workers 2] [--max-questions 16]
                                [--prebuild-gaps] [--results ...]

Why: the benchmark's mixed load asks no gaps question (the first one scans every act, about
95 s at scale 1), so its server memory figure never showed one, and a server whose two
workers had each answered gaps went over the 2 GiB target (2,509 MiB, fourteenth session).
While the scan is built the server answers 503 + Retry-After (``api.gaps_gate``): the tool
asks again, as a client would (at most every 5 s), and counts the time to the answer.
Questions go on fresh connections, so the kernel spreads them over the workers; the tool
asks until every worker has answered one (each then maps the shared scan's files, read from
``/proc/PID/maps``) or ``--max-questions`` is reached. The server starts with cold caches,
as a first start after a load does. Memory is the sum of the server processes' PSS
(``bench.common.Server.mem``). Writes ``bench/results/gaps-server-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, SCALE1_RUN, WORK, Server, write_result
from bench.run import AUTHORITIES


def mapping_the_scan(pids: list[int]) -> list[int]:
    """The processes that map a gaps scan's shared files (a worker that answered gaps)."""
    out = []
    for pid in pids:
        try:
            maps = Path(f"/proc/{pid}/maps").read_text()
        except OSError:
            continue
        if "/gaps-" in maps:
            out.append(pid)
    return out


def measure(db: Path, workers: int, max_questions: int, timeout: float,
            prebuild_gaps: bool = False) -> dict[str, Any]:
    import httpx

    WORK.mkdir(parents=True, exist_ok=True)
    server = Server(db, WORK / "gaps-server.log", workers=workers,
                    extra=["--prebuild-gaps"] if prebuild_gaps else [])
    server.start(timeout=max(600, 4 * timeout))
    try:
        out: dict[str, Any] = {"workers": workers, "prebuild_gaps": prebuild_gaps,
                               "ready_seconds": server.ready_seconds,
                               "before": server.mem(), "asks": []}
        for i in range(max_questions):
            auth = AUTHORITIES[i % len(AUTHORITIES)]
            t0 = time.perf_counter()
            # while the scan is built the server answers 503 + Retry-After (api.gaps_gate):
            # asked again as a client would, until the answer or ``timeout``
            busy = 0
            while True:
                r = httpx.get(f"{server.base}/sanctions/gaps",
                              params={"authority": auth, "limit": 5}, timeout=timeout)
                if r.status_code != 503 or time.perf_counter() - t0 > timeout:
                    break
                busy += 1
                time.sleep(min(float(r.headers.get("retry-after", "5")), 5.0))
            mapping = len(mapping_the_scan(server.pids()))
            ask: dict[str, Any] = {"authority": auth, "status": r.status_code,
                   "answered_503": busy,
                   "seconds": round(time.perf_counter() - t0, 2),
                   "total": r.json().get("total") if r.status_code == 200 else None,
                   "pss_mib": server.mem()["pss_mib"],
                   "mapping_the_scan": mapping}
            out["asks"].append(ask)
            print(f"[gaps_server] {auth}: {ask['status']} in {ask['seconds']} s (after "
                  f"{busy} answers 503: scan being built), total "
                  f"{ask['total']}, server PSS {ask['pss_mib']} MiB, processes mapping the "
                  f"scan {ask['mapping_the_scan']}", file=sys.stderr, flush=True)
            if mapping >= workers:
                break
        out["after"] = server.mem()
        return out
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=SCALE1_RUN / "graph.lbdb")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-questions", type=int, default=16)
    ap.add_argument("--timeout", type=float, default=900, help="seconds per question")
    ap.add_argument("--prebuild-gaps", action="store_true",
                    help="serve with --prebuild-gaps: the scans built before the workers start")
    ap.add_argument("--results", type=Path, default=RESULTS)
    a = ap.parse_args(argv)
    if not a.db.exists():
        ap.error(f"no database at {a.db}: run `python -m bench.run --scale 1` first, or "
                 "give --db")
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out = measure(a.db, a.workers, a.max_questions, a.timeout, a.prebuild_gaps)
    out.update(db=str(a.db), started=started)
    path = write_result(a.results, "gaps-server", out)
    first = out["asks"][0] if out["asks"] else {}
    print(f"first gaps answer {first.get('seconds')} s; server PSS before "
          f"{out['before'].get('pss_mib')} MiB, peak {out['after'].get('peak_mib')}, after "
          f"{out['after'].get('pss_mib')}; workers that answered gaps "
          f"{max((x['mapping_the_scan'] for x in out['asks']), default=0)} of {a.workers}")
    print(f"written {path}")
    return out


if __name__ == "__main__":
    main()
