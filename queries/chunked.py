"""Whole-table reads for the in-process caches (name index, hierarchy, projection, gaps):
through a pool that is closed afterwards, in pieces, keeping copies of what is kept.

Measured at scale 1 (1M nodes, LadybugDB 0.22), what a whole-table read costs a process:

- the engine materialises the whole result in its buffer pool before handing it over as
  Arrow, and the pages it touched stay cached there up to the pool's size: one read of the
  550,000 Person rows with their names and keys took about 650 MB of pool besides its 300
  MB of Arrow, and after the name index and the hierarchy a 1 GiB pool was full (RSS 2.4
  GB). Smaller pools did not help: at 256-512 MiB the hierarchy's reads failed ("the
  buffer pool is full and no memory could be freed") even in small pieces, once earlier
  reads had filled the pool. Hence ``build_reader``: a second read-only ``Database`` on
  the same file, with its own pool, closed when the cache is built, which gives that
  memory back to the system;
- an Arrow array imported from the engine keeps the whole result it came with alive,
  every column of it: a cache that kept a few columns kept all of them (the names JSON
  and keys, most of the index's read). Hence ``copied``;
- ``read_pieces`` reads a table as ranges of its internal offsets (``WHERE
  offset(id(x)) >= $lo AND offset(id(x)) < $hi``), so one piece's result is in the pool
  at a time and the caller keeps only its copies: the index build peaked 300 MB lower.
  The engine does not push the range into its scan, so each piece rescans the table:
  pieces are large (``CHUNK_ROWS``).

The rows are the same as one read's (each row's offset falls in exactly one range); their
order is the engine's in either case (it is not fixed for one read either: the engine
scans with several threads).

The name index and the hierarchy open one build reader per table (``table_pool``: 512
MiB): a reader's pool kept the results of the earlier tables' reads, so one 1 GiB reader
for all of them peaked higher than one 512 MiB reader per table. And the caches of a
read-only database are shared by the processes that serve it (``shared``, below): built
once, written to files, memory-mapped by every worker.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from graph import catalog
from graph.store import Store

CHUNK_ROWS = 300_000  # rows per piece: each rescans the table, so not too few
_SHAPE = re.compile(r"^MATCH (?P<pattern>\((?P<n>\w+):[^)]*\)|\(\w*\)-\[(?P<r>\w+):\w+\]->\(\w*\))"
                    r" RETURN ")


def _variable(text: str) -> str | None:
    """The variable to range over in ``MATCH (n:K) RETURN ...`` or
    ``MATCH (a)-[r:T]->(b) RETURN ...``; None for any other shape (read whole)."""
    m = _SHAPE.match(text)
    if m is None:
        return None
    return m["n"] or m["r"]


def read_pieces(store: Store, name: str, params: dict[str, Any] | None = None,
                rows: int | None = None) -> Iterator[pa.Table]:
    """The rows of the named query as Arrow tables of about ``rows`` rows each (one table
    when the store cannot range over offsets, the query has another shape, or it is
    small). Each table should be let go before the next is asked for."""
    rows = rows or CHUNK_ROWS
    execute = getattr(store, "execute", None)
    if getattr(store, "dialect", None) != "ladybug" or execute is None:
        yield store.run_arrow(name, params)
        return
    text = catalog.text_of(name, "ladybug")
    var = _variable(text)
    if var is None:
        yield store.run_arrow(name, params)
        return
    match = text[:text.index(" RETURN ")]
    found = execute(f"{match} RETURN count(*) AS c, max(offset(id({var}))) AS m",
                    params)
    count = int(found[0]["c"] or 0) if found else 0
    if count <= rows:
        yield store.run_arrow(name, params)
        return
    top = int(found[0]["m"])
    piece = f"{name}#piece"
    if piece not in catalog.QUERIES:
        where = f" WHERE offset(id({var})) >= $lo AND offset(id({var})) < $hi"
        catalog.register(piece, ladybug=match + where + text[len(match):],
                         doc=f"{name}, the rows whose offset is in [lo, hi) (queries.chunked)")
    for lo in range(0, top + 1, rows):
        yield store.run_arrow(piece, {**(params or {}), "lo": lo, "hi": lo + rows})


def copied(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``arr`` as one array in pyarrow's own memory. An array imported from the engine
    keeps the whole result it came with alive (every column of it), so a column kept
    past the read is copied out: the rest of the read can then be freed."""
    if isinstance(arr, pa.ChunkedArray):
        chunks = arr.chunks
        if not chunks:
            return pa.array([], arr.type)
        return pa.concat_arrays(chunks)  # always a new buffer, even for one chunk
    return pa.concat_arrays([arr])


BUILD_POOL_ENV = "ACCGRAPH_BUILD_BUFFER_POOL"
DEFAULT_BUILD_POOL = 1 << 30  # whole-table reads of a 1M-node graph fit (see above)
TABLE_POOL = 512 << 20  # one table's read fits (a reader per table: ``table_pool``)
_BUILD_LOCK = threading.Lock()  # one build reader at a time: their pools do not add up


# below this database size a build reads the store itself: what it touches is small, and a
# second open would cost more than it saves (a worker's start-up, the tests' fixtures)
BUILD_READER_MIN = 64 << 20


def _size(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else sum(
            f.stat().st_size for f in path.rglob("*") if f.is_file())
    except OSError:
        return 0


def build_pool() -> int:
    """The buffer pool of a build reader: ``ACCGRAPH_BUILD_BUFFER_POOL`` (bytes), else 1 GiB."""
    return int(os.environ.get(BUILD_POOL_ENV, DEFAULT_BUILD_POOL))


def table_pool() -> int:
    """The pool of a reader opened for one table's read (the name index and the hierarchy
    open one per table): 512 MiB, or ``build_pool()`` when that is smaller. Measured at
    scale 1: each table alone fits in 512 MiB, while one reader for all of them failed
    there ("the buffer pool is full") because earlier reads' results stayed in its pool;
    read so, the index's build peaks about 280 MB lower and the hierarchy's 380 MB lower
    than through one 1 GiB reader."""
    return min(TABLE_POOL, build_pool())


@contextmanager
def build_reader(store: Store, pool: int | None = None) -> Iterator[Store]:
    """The store to read a cache's whole tables from: for an embedded store opened
    read-only, a second read-only ``Database`` on the same file with its own pool, closed
    when the block ends; else ``store`` itself.

    Why: the pages a whole-table read touches stay resident in the pool that read them
    (the engine keeps them cached up to the pool's size; at scale 1 the name index and the
    hierarchy fill a 1 GiB pool, and a smaller pool fails to make room for their results).
    Read through a pool that is closed afterwards, that memory goes back to the system,
    and the serving store's own pool holds only what requests touch. Nothing writes
    through a read-only store, and the engine lets several read-only ``Database`` objects
    open one file, in one process as in several. (A load by another process would show in
    a reader opened after it and not in the store: read-only servers are restarted after
    a load anyway, ``api.serve_app``.)
    Builds take turns (one reader open at a time), so their pools never add up. A small
    database (under ``BUILD_READER_MIN`` bytes) is read through ``store`` itself. ``pool``:
    the reader's buffer pool (``build_pool()`` when not given)."""
    path = getattr(store, "path", None)
    if not getattr(store, "read_only", False) or not isinstance(path, Path) \
            or getattr(store, "dialect", None) != "ladybug" or _size(path) < BUILD_READER_MIN:
        yield store
        return
    from graph.embedded import EmbeddedStore

    with _BUILD_LOCK:
        reader = EmbeddedStore(path, read_only=True, buffer_pool=pool or build_pool())
        try:
            yield reader
        finally:
            reader.close()


# -- caches shared by the processes that serve one database ------------------------------
#
# A read-only server runs N worker processes over one database file, and each held its own
# copy of the same caches (name index and hierarchy: about 0.8 GB of process memory per
# worker at scale 1, 3.4 GB for two workers at their peaks). The caches are numpy and Arrow
# arrays, so they can live in files: the first worker to get a cache's lock builds it (the
# others wait: their builds would not overlap anyway, and their peaks would add up) and
# writes its arrays to a directory that every worker then memory-maps read-only. The pages
# are the kernel's page cache of those files, one copy however many workers map them (the
# proportional set size, PSS, of each worker counts its share; RSS counts every mapped page
# in every process). The builder drops its own copy and maps the files too.
#
# Layout: ``<base>/<key>/<cache name>/`` (``<base>``: ``<db>.caches`` beside the database,
# ``shared_bases``) with one ``.npy`` file per numpy array, one Arrow IPC file per Arrow
# array and ``meta.json`` (the small values); a cache is written under a temporary name,
# synced and renamed into place whole, so a directory that exists is complete. ``key``
# hashes the database file's identity (path, inode, size, mtime: a load replaces the file or
# grows it), the source of the modules that build the caches (a changed build never reads
# an older layout) and the store's generation. Other keys of the same database are removed
# when a new one is written (a process still mapping their files keeps them until it ends).
# Cost: about 470 MB of disk at scale 1 (names 193, hierarchy 273) and the projection's
# when paths or analytics were asked for.

SHARED_ENV = "ACCGRAPH_SHARED_CACHES"  # "0": never share; a directory: put them there
# a smaller database's caches are built in process (``ACCGRAPH_SHARED_MIN_BYTES``: another
# size, read once at import; tests share a small database's caches across processes)
SHARED_MIN = int(os.environ.get("ACCGRAPH_SHARED_MIN_BYTES") or BUILD_READER_MIN)
_SHARED_MODULES = ("queries.chunked", "queries.search", "queries.structure",
                   "queries.projection", "queries.gaps", "queries.cypher", "graph.names",
                   "graph.model", "graph.dates")


@functools.cache
def _code_key(modules: tuple[str, ...]) -> str:
    """A hash of the source of ``modules`` (found, not imported): a build whose code
    changed never maps the files of an older one. Taken once per process (at its first
    cache), so that a source edited while a server runs does not give a worker started
    later (uvicorn replaces one that died) another key than its siblings'."""
    import hashlib
    import importlib.util

    h = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        src = spec.origin if spec is not None else None
        h.update(name.encode())
        if src and src.endswith(".py"):
            h.update(Path(src).read_bytes())
    return h.hexdigest()[:16]


def _file_key(path: Path) -> str | None:
    import hashlib

    h = hashlib.sha256(str(path.resolve()).encode())
    for p in (path, Path(str(path) + ".wal")):
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        except OSError:
            return None
        if not p.is_file():
            return None  # a directory database: no cheap identity, not shared
        h.update(f"{p.name}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def shared_dir(store: Store) -> Path | None:
    """The directory of this store's shared cache files, or None when its caches are built
    in process: a store that is not a read-only embedded one on a file (a writable store's
    caches change with its generation), a small one (under ``SHARED_MIN`` bytes), or
    ``ACCGRAPH_SHARED_CACHES=0``. The files go in the first writable place of
    ``shared_bases``."""
    setting = os.environ.get(SHARED_ENV, "")
    path = getattr(store, "path", None)
    if setting == "0" or not getattr(store, "read_only", False) or not isinstance(path, Path) \
            or getattr(store, "dialect", None) != "ladybug" or _size(path) < SHARED_MIN:
        return None
    key = _file_key(path)
    if key is None:
        return None
    for base in shared_bases(path):
        try:
            base.mkdir(parents=True, exist_ok=True)
            if os.access(base, os.W_OK):
                return base / f"{key}-{_code_key(_SHARED_MODULES)}-g{store.generation}"
        except OSError:
            continue
    return None


def shared_bases(path: Path) -> list[Path]:
    """Where the shared caches of the database at ``path`` may go, in order of preference
    (each holds one folder per key): ``ACCGRAPH_SHARED_CACHES/<name>-<hash>`` when that
    names a directory, else ``<db>.caches`` and ``<tmp>/accgraph-caches/<name>-<hash>``.
    Removing them is always safe (the next start rebuilds; a process that maps their
    files keeps them until it ends)."""
    import hashlib
    import tempfile

    setting = os.environ.get(SHARED_ENV, "")
    own = f"{path.name}-{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
    if setting and setting not in ("0", "1"):
        return [Path(setting) / own]
    return [Path(str(path) + ".caches"), Path(tempfile.gettempdir()) / "accgraph-caches" / own]


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (``flock``: released if the holder dies)."""
    import fcntl

    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


Arrays = dict[str, Any]  # name -> numpy array or Arrow array (what a cache is made of)


def save_arrays(target: Path, arrays: Arrays, meta: dict[str, Any]) -> None:
    """Write ``arrays`` and ``meta`` (JSON values) as a cache directory at ``target``, whole
    or not at all (written beside it, synced, renamed into place)."""
    import json
    import shutil

    import numpy as np

    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        files: dict[str, str] = {}
        for i, (name, arr) in enumerate(arrays.items()):
            if isinstance(arr, np.ndarray):
                files[name] = f"{i}.npy"
                np.save(tmp / files[name], np.ascontiguousarray(arr), allow_pickle=False)
            else:
                files[name] = f"{i}.arrow"
                batch = pa.record_batch([arr], names=["v"])
                with pa.OSFile(str(tmp / files[name]), "wb") as sink, \
                        pa.ipc.new_file(sink, batch.schema) as writer:
                    writer.write_batch(batch)
        (tmp / "meta.json").write_text(json.dumps({"files": files, "meta": meta}),
                                       encoding="utf-8")
        for f in tmp.iterdir():  # a renamed directory must not hold torn files after a crash
            fd = os.open(f, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_arrays(target: Path, touch: bool = True) -> tuple[Arrays, dict[str, Any]]:
    """The arrays of a cache directory, memory-mapped read-only (numpy arrays are plain
    ``ndarray`` views of the mapping, Arrow arrays reference it), and its ``meta``; every
    page touched once when ``touch`` (``_touch_pages``)."""
    import json

    import numpy as np

    doc = json.loads((target / "meta.json").read_text(encoding="utf-8"))
    out: Arrays = {}
    for name, fname in doc["files"].items():
        if fname.endswith(".npy"):
            out[name] = np.asarray(np.load(target / fname, mmap_mode="r", allow_pickle=False))
        else:
            with pa.memory_map(str(target / fname), "r") as source:
                out[name] = pa.ipc.open_file(source).get_batch(0).column(0)
    if touch:
        _touch_pages(out)
    return out, doc["meta"]


def _touch_pages(arrays: Arrays) -> None:
    """Read one byte of every page of the mapped arrays, once, now: each page a process
    touches for the first time costs it a page fault, and in this virtual machine a few
    hundred of them, spread over the arrays, made a chain of command 1 ms slower (p50 3.2
    against 2.2 ms at scale 1) for the first thousands of questions. The pages are the
    page cache's, shared: touching them adds no memory that PSS counts twice."""
    import numpy as np

    page = 4096
    for arr in arrays.values():
        if isinstance(arr, np.ndarray):
            if arr.nbytes:
                int(arr.reshape(-1).view(np.uint8)[::page].sum())
            continue
        for buf in arr.buffers():
            if buf is not None and buf.size:
                int(np.frombuffer(buf, dtype=np.uint8)[::page].sum())


def release_memory() -> None:
    """Give freed memory back to the system after a build: Arrow's pool keeps freed blocks,
    and glibc keeps freed heap pages until trimmed (the build's temporaries, hundreds of
    MB, otherwise stayed in the worker's resident memory)."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    pa.default_memory_pool().release_unused()
    name = ctypes.util.find_library("c")
    if name:
        try:
            ctypes.CDLL(name).malloc_trim(0)
        except (OSError, AttributeError):
            pass


def _remove_other_keys(folder: Path) -> None:
    """Remove the database's cache folders of other keys (an older file or build), and
    what a builder killed mid-write left (called under the lock: no build is running)."""
    import shutil

    for other in folder.parent.iterdir():
        if other != folder and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
    for tmp in folder.glob(".*.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def shared(store: Store, name: str, build: Any, to_arrays: Any, from_arrays: Any,
           touch: bool = True) -> Any:
    """The cache ``name`` of ``store``: mapped from its shared files when another process
    (or an earlier start) wrote them, else built (``build()``), written
    (``to_arrays(value) -> (arrays, meta)``) and mapped; ``from_arrays(arrays, meta)``
    makes the cache from the mapped arrays. Without a shared directory (``shared_dir``),
    just ``build()``. One process builds at a time (a lock file per database): a second
    one waits, then maps what the first wrote, so two builds' peaks never add up. A
    failure to write or map the files is logged and the cache is kept in process, as
    without sharing. ``touch``: map every page at once (``load_arrays``), for a cache
    whose questions have a latency target that first-touch faults would miss; else the
    pages are mapped as questions touch them, and only those count as resident."""
    import logging
    import shutil

    folder = shared_dir(store)
    if folder is None:
        return build()
    log = logging.getLogger("accgraph.cache")
    target = folder / name
    if target.is_dir():
        try:
            return from_arrays(*load_arrays(target, touch))
        except Exception:  # noqa: BLE001 - damaged or removed meanwhile: rebuilt below
            log.warning("shared cache %s unreadable; rebuilding it", target, exc_info=True)
    value: Any = None
    try:
        with _file_lock(folder.parent / ".lock"):
            if target.is_dir():
                try:
                    return from_arrays(*load_arrays(target, touch))
                except Exception:  # noqa: BLE001
                    shutil.rmtree(target, ignore_errors=True)
            _remove_other_keys(folder)
            folder.mkdir(parents=True, exist_ok=True)
            value = build()
            arrays, meta = to_arrays(value)
            save_arrays(target, arrays, meta)
            del arrays, meta
            value = None  # the builder maps the files too: its own copy goes
            release_memory()
            return from_arrays(*load_arrays(target, touch))
    except OSError:
        log.exception("shared cache %s could not be written; kept in process", target)
        return build() if value is None else value
