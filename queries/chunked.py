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
"""

from __future__ import annotations

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


@contextmanager
def build_reader(store: Store) -> Iterator[Store]:
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
    database (under ``BUILD_READER_MIN`` bytes) is read through ``store`` itself."""
    path = getattr(store, "path", None)
    if not getattr(store, "read_only", False) or not isinstance(path, Path) \
            or getattr(store, "dialect", None) != "ladybug" or _size(path) < BUILD_READER_MIN:
        yield store
        return
    from graph.embedded import EmbeddedStore

    with _BUILD_LOCK:
        reader = EmbeddedStore(path, read_only=True, buffer_pool=build_pool())
        try:
            yield reader
        finally:
            reader.close()
