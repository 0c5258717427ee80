"""The sanctions-gap scan built in the background for the API, with a bounded wait.

Why: the first gaps question on a store scans every act (60-95 s at a million nodes).
Built inside the request, it held the client and a worker thread that long, and a proxy in
front of a portal (60 s is a common timeout) cut the request with a 504 while the build
went on unseen. Now a gaps request whose scan is not held yet starts its build in a
background thread (one per store generation and view, never two at once) and waits up to
the server's ``--ready-wait`` seconds; if the scan is still being built it gets 503 +
``Retry-After`` as ``application/problem+json`` (an HTML page under ``/ui``), and asking
again later gets the answer. A worker of a multi-worker server whose scan another worker
already built maps it (``queries.gaps``) within the wait.

A build that fails is logged and named in the next 503; the next request starts it again.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from api.problems import ApiProblem

log = logging.getLogger("accgraph.api")

RETRY_SECONDS = 15  # what a 503 asks the client to wait before asking again


class GapsGate:
    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._builds: dict[tuple[int, int, bool], threading.Thread] = {}
        self._errors: dict[tuple[int, int, bool], str] = {}

    def wait(self, queries: Any) -> None:
        """Return once ``queries`` (a ``GraphQueries``) holds its view's scan, building it
        in the background if needed; 503 + Retry-After after ``wait_seconds``."""
        if queries.gaps_scan_ready():
            return
        key = (id(queries.store), queries.store.generation, queries.include_restricted)
        with self._lock:
            build = self._builds.get(key)
            if build is None or not build.is_alive():
                for old in [k for k, t in self._builds.items()  # earlier generations'
                            if k[:2] != key[:2] and not t.is_alive()]:
                    self._builds.pop(old, None)
                    self._errors.pop(old, None)
                build = threading.Thread(target=self._build, args=(queries, key),
                                         name="accgraph-gaps-scan", daemon=True)
                self._builds[key] = build
                build.start()
        build.join(self.wait_seconds)
        if queries.gaps_scan_ready():
            return
        failed = self._errors.get(key)
        note = f"; the last build failed ({failed}) and was started again" if failed else ""
        raise ApiProblem(503, "the sanctions-gap scan is being built: every act of the graph "
                              "is walked once (about a minute and a half at a million "
                              f"nodes){note}; retry in {RETRY_SECONDS} s",
                         headers={"Retry-After": str(RETRY_SECONDS)})

    def _build(self, queries: Any, key: tuple[int, int, bool]) -> None:
        try:
            queries.build_gaps_scan()
            self._errors.pop(key, None)
        except Exception as exc:  # logged; named in the next 503, then built again
            self._errors[key] = f"{type(exc).__name__}: {exc}"
            log.exception("the sanctions-gap scan failed to build")
