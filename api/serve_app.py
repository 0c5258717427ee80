"""The app factory for a multi-process server (``accgraph serve --workers N``).

One Python process serves at most one core's worth of requests (the GIL), and the engine
allows one ``Database`` object per process. LadybugDB does allow several processes to open
the same database file read-only at once (checked with 0.22: two processes, each with its
own ``Database(path, read_only=True)``, query the same file concurrently). So a read-mostly
deployment can run N uvicorn worker processes, each opening the store read-only and building
its own caches (name index, restricted ids), each listening on a socket of its own
(``api.supervisor``: the kernel spreads connections over them).

Limits, by construction:
- the workers never write: ingest and merge decisions answer 409 (use ``accgraph ingest`` /
  ``accgraph review`` or a single-worker server), and the keys/audit file (SQLite, beside
  the database) is shared by all workers;
- a worker sees the database as it was when it opened it: restart the server after a load;
- memory: each worker holds its own buffer pool (``ACCGRAPH_BUFFER_POOL``, else 128 MiB:
  ``graph.embedded.serving_buffer_pool``) and its own per-answer caches, but the large
  caches (name index, hierarchy, and the projection for paths once asked for: about 470
  MB of arrays at scale 1) are built once, by the first worker to take their lock, written
  to files beside the database and memory-mapped by every worker
  (``queries.chunked.shared``): one copy in memory however many workers. The builder reads
  through a second read-only ``Database`` per table whose pool is closed once read
  (``queries.chunked.build_reader``) and gives the build's memory back; the other workers
  wait for the files instead of building at the same time. A restart maps the files an
  earlier start wrote (ready in about 2 s instead of 20 s at scale 1).

The supervisor starts each worker with ``api.serve_app:app_from_env`` (``factory=True``); the
parent passes the configuration in the environment (``ACCGRAPH_SERVE``, JSON).
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass

from fastapi import FastAPI

ENV = "ACCGRAPH_SERVE"


@dataclass
class ServeConfig:
    db: str | None
    store_kind: str | None
    admin_path: str
    read_only: bool = True
    answer_cache_mib: float = 0
    ready_wait_seconds: float = 5.0
    warm_up: bool = True
    threads: int = 4

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeConfig:
        raw = os.environ.get(ENV)
        if not raw:
            raise RuntimeError(f"{ENV} is not set: start workers with `accgraph serve --workers N`")
        return cls(**json.loads(raw))


def app_from_env() -> FastAPI:
    """One worker: open the store (read-only) and the key store, build the app."""
    from api.app import create_app
    from api.security import AdminStore
    from graph.config import open_store

    cfg = ServeConfig.from_env()
    tune_process()
    pool = None
    if cfg.read_only:  # the caches are read through a pool of their own (queries.chunked)
        from graph.embedded import serving_buffer_pool

        pool = serving_buffer_pool()
    store = open_store(cfg.db, cfg.store_kind, read_only=cfg.read_only, buffer_pool=pool)
    admin = AdminStore(cfg.admin_path)

    def close() -> None:
        admin.close()
        store.close()

    atexit.register(close)
    return create_app(store, admin, warm_up=cfg.warm_up, read_only=cfg.read_only,
                      answer_cache_mib=cfg.answer_cache_mib,
                      ready_wait_seconds=cfg.ready_wait_seconds, threads=cfg.threads)


# allocations from this size up get pages of their own, given back when freed (glibc's
# default threshold rises to 32 MiB after the first such free, so answers' large buffers
# of a few hundred KB to 2 MB were carved from the heap and stayed there)
MMAP_THRESHOLD = 256 << 10
TRIM_EVERY_SECONDS = 5.0  # malloc_trim at scale 1 took 0.5 ms (0.8 at most)
TRIMMER = "malloc-trim"  # the trimming thread's name: one per process


def tune_process(arenas: int = 2, trim_every: float = TRIM_EVERY_SECONDS) -> None:
    """Keep a serving process's heap near what it holds (a no-op where glibc is not the
    allocator). Why: under a sustained mixed load at scale 1, a worker's freed heap pages
    (answers allocate megabytes and free them) stayed resident and its memory crept up
    for minutes. Three measures:

    - cap glibc's malloc arenas (it makes up to 8 per core, one per busy thread): request
      threads that allocate and free in turn share a few heaps instead of each keeping
      its own high-water mark;
    - a fixed mmap threshold (``MMAP_THRESHOLD``): large buffers are mapped and unmapped;
    - a daemon thread that calls ``malloc_trim`` every ``trim_every`` seconds, giving
      freed pages inside the heaps back to the system.

    Measured with two workers, 16 clients of mixed questions for 5 minutes: the server
    levelled off at 1,820 MiB PSS (128 MiB pools), against 1,876 and still rising with
    the trimming alone, and 2,157 and rising with neither (256 MiB pools)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
        libc.mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    if trim_every > 0 and not any(t.name == TRIMMER for t in threading.enumerate()):
        threading.Thread(target=trim_until, args=(trim, trim_every, threading.Event()),
                         name=TRIMMER, daemon=True).start()


def trim_until(trim: Callable[[int], int], every: float, stop: threading.Event) -> None:
    """Call ``trim(0)`` every ``every`` seconds until ``stop`` is set."""
    while not stop.wait(every):
        trim(0)
