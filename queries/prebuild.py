"""Build the caches that serving workers share, in a process of its own, before they start.

    python -m queries.prebuild DB        # what ``accgraph serve --workers N`` runs first

Why: the name index, the hierarchy and the paths projection of a read-only database are
built once and memory-mapped by every worker (``queries.chunked.shared``). Built inside a
worker, the build's peak (about 1 GB at scale 1) and the heap it fragments stayed in that
worker for its whole life, and the projection was built by whichever worker met the first
``/paths`` question, under load. A process that builds the files and exits gives the
build's memory back: at scale 1 a cold-started two-worker server's peak fell from 2,326 to
2,184 MiB (``bench.api_load``). What it holds after two minutes of mixed load barely moved
(2,168 -> 2,158 MiB): that is the workers' own caches and the mapped files' pages.

It builds nothing (and exits 0) when the store's caches are not shared (a small or writable
database, ``ACCGRAPH_SHARED_CACHES=0``), and nothing that is already on disk.

With ``--gaps`` (``accgraph serve --workers N --prebuild-gaps``) it also builds the
sanctions-gap scan of both views (about 90 s each at scale 1): built in a worker, the first
gaps question's build holds about 0.75 GiB more in that worker for as long, on top of its
caches; built here, before the workers start, it is only mapped by them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from graph.store import Store


def build_shared(store: Store, gaps: bool = False) -> dict[str, float]:
    """Build (or find on disk) every shared cache of ``store``, and with ``gaps`` the
    sanctions-gap scans of both views; seconds per cache. Empty when ``store``'s caches are
    not shared between processes."""
    from queries.chunked import shared_dir
    from queries.projection import projection
    from queries.search import NameIndex
    from queries.service import GraphQueries
    from queries.structure import structure

    if shared_dir(store) is None:
        return {}
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("names", lambda: NameIndex().ensure(store)),
        ("structure", lambda: structure(store)),
        ("projection", lambda: projection(store)),
    ]
    if gaps:
        def scan(include_restricted: bool) -> Callable[[], None]:
            return GraphQueries(store, include_restricted=include_restricted).build_gaps_scan

        steps += [("gaps-all", scan(True)), ("gaps-public", scan(False))]
    seconds: dict[str, float] = {}
    for name, build in steps:
        t0 = time.perf_counter()
        build()
        seconds[name] = round(time.perf_counter() - t0, 2)
    return seconds


def prebuild(db: str | None, store_kind: str | None = None, *, gaps: bool = False,
             timeout: float = 3600) -> dict[str, Any]:
    """Run ``build_shared`` in a child process (its memory is the system's again when it
    ends). A failure is reported, not raised: the workers then build the caches as before."""
    cmd = [sys.executable, "-m", "queries.prebuild"]
    if db:
        cmd.append(db)
    if store_kind:
        cmd += ["--store", store_kind]
    if gaps:
        cmd.append("--gaps")
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1]}
    try:
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": f"unreadable output: {out.stdout[-200:]!r}"}
    return result


def main(argv: list[str] | None = None) -> int:
    import argparse

    from graph.config import open_store
    from graph.embedded import serving_buffer_pool

    ap = argparse.ArgumentParser(description="build the shared caches of a read-only database")
    ap.add_argument("db", nargs="?", default=None, help="default: the configured database")
    ap.add_argument("--store", default=None, help="store kind (default: the configured one)")
    ap.add_argument("--gaps", action="store_true",
                    help="also the sanctions-gap scans (about 90 s each at a million nodes)")
    a = ap.parse_args(argv)
    store = open_store(a.db, a.store, read_only=True, buffer_pool=serving_buffer_pool())
    try:
        seconds = build_shared(store, gaps=a.gaps)
    finally:
        store.close()
    print(json.dumps({"built": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
