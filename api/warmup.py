"""Server start-up work done once, in the background, with a readiness signal.

The name index (``queries.search``) takes 30+ s to build at scale 1. Built inside the first
``/search`` request, it made that request and every request queued behind it time out. The
server now builds it (and the restricted-id set of the guard) in a background thread as
soon as the app is created. Until it is done:

- ``GET /ready`` answers 503 (``GET /health`` answers 200 as soon as the process serves);
- a request that needs the index (search, and resolving an entity given by name) waits up
  to ``wait_seconds`` for it, then gets 503 + ``Retry-After`` as ``application/problem+json``
  (never a 500, never a second concurrent build);
- requests that do not need it (an entity given by id) are served at once.

The same thread then builds the in-process hierarchy (``queries.structure``) that chains and
accountability questions walk, before the gate opens, so the first of them does not pay for
it (entities given by id are served meanwhile, as above).

With several read-only workers (``accgraph serve --workers N``) the index and the hierarchy
are shared between them (``queries.chunked.shared``): the first worker to take the lock
builds each and writes it to files that every worker memory-maps, and the others wait for
the files here, with their gates shut; so N workers hold one copy, and never build at once
(their build peaks, about 1 GB each at scale 1, do not add up).

If the build fails the failure is logged and the gate opens anyway: the index is then built
lazily by the first request that needs it, as before (under the index's own lock).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from api.problems import ApiProblem
from graph.store import Store

log = logging.getLogger("accgraph.api")

DEFAULT_WAIT_SECONDS = 5.0


class WarmUp:
    """The readiness gate: open at once when there is nothing to warm up."""

    def __init__(self, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
        self.wait_seconds = wait_seconds
        self.ready = threading.Event()
        self.started_at = time.monotonic()
        self.seconds: float | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        """Nothing to wait for (tests, or warm-up disabled)."""
        self.seconds = 0.0
        self.ready.set()

    def start(self, store: Store) -> None:
        """Build the caches in a daemon thread; the gate opens when it ends (even on error)."""
        if self._thread is not None:
            return
        self.started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, args=(store,),
                                        name="accgraph-warmup", daemon=True)
        self._thread.start()

    def _run(self, store: Store) -> None:
        from api.guard import restricted_set
        from queries.service import GraphQueries

        try:
            restricted_set(store)
            # the public entry point builds the index (NameIndex.ensure, under its lock)
            GraphQueries(store, include_restricted=True).search("warm up", limit=1)
            self._build_structure(store)
            # the caches are built: freeze them out of the collector's full passes, which
            # otherwise walked them every few dozen answers (queries.gc_policy)
            from queries.gc_policy import settle

            settle()
        except Exception as exc:  # logged; requests then build the caches lazily
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("warm-up failed; caches will be built by the first requests")
        finally:
            self.seconds = round(time.monotonic() - self.started_at, 2)
            if self.error is None:
                log.info("warm-up done in %.1f s (name index, restricted ids, hierarchy)",
                         self.seconds)
            self.ready.set()

    @staticmethod
    def _build_structure(store: Store) -> None:
        """The hierarchy held in process (``queries.structure``): built (or mapped from
        the files another worker wrote) here, right after the index, the builds of a
        start-up take turns (one build reader open at a time, and one building process at
        a time: ``queries.chunked``) and the first chain requests do not pay for it; a request
        that comes first waits for this build (its lock) as it would for its own. A
        failure is logged and left to the requests (it does not hold the gate shut)."""
        from queries.structure import structure

        try:
            structure(store)
        except Exception:  # logged; the first chain request builds it instead
            log.exception("warm-up: the hierarchy build failed; requests will build it")

    def wait(self) -> None:
        """Block up to ``wait_seconds`` for readiness; then 503 + Retry-After."""
        if self.ready.is_set() or self.ready.wait(self.wait_seconds):
            return
        retry = max(1, int(self.wait_seconds))
        raise ApiProblem(503, "the server is starting: the name index is still being built; "
                              f"retry in {retry} s",
                         headers={"Retry-After": str(retry)})

    def status(self) -> dict[str, Any]:
        ready = self.ready.is_set()
        elapsed = self.seconds if ready else round(time.monotonic() - self.started_at, 2)
        return {"ready": ready, "warmup_seconds": elapsed, "warmup_error": self.error}
