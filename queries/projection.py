"""A lean, columnar projection of the graph for paths and network analytics, cached per
store and ``store.generation``.

Why not networkx: at a million nodes a networkx ``MultiGraph`` of string ids with a dict
per edge took 34-70 s and 3.4 GB to build (once per process and per committed write) and
once brought the process down. Here every node is an integer (its rank in the sorted ids,
so integer order is id order and paths come out in the same lexicographic order as
before), the claims are numpy columns, and adjacency is one CSR array pair (``indptr``,
``nbr``/``eid``) built from the Arrow tables the engine returns, without a Python object
per row. What is kept per claim is what the questions need to walk (ends, type, date
bounds, confidence, id); answers fetch the full claims of the few edges they show.

Claims that join an entity to a document (MENTIONED_IN, SIGNED) are left out: every entity
named in one report would otherwise be two steps from every other. Source nodes likewise.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.dates import MAX_DAY, MIN_DAY, Validity, validity_on
from graph.model import NODE_KINDS, RELATION_TYPES
from graph.store import Store
from queries.centrality import SimpleCSR
from queries.chunked import build_reader, shared
from queries.cypher import proj_nodes_query, proj_rels_query
from queries.search import _Sorted

EXCLUDED_TYPES = frozenset({"MENTIONED_IN", "SIGNED"})
_CONF_RANK = {"high": 0, "medium": 1, "low": 2}
_KINDS = tuple(k for k in NODE_KINDS if k != "Source")
_TYPES = tuple(t for t in RELATION_TYPES if t not in EXCLUDED_TYPES)

Bounds = tuple[int, int] | None
_I32 = np.iinfo(np.int32)


class NodeIds:
    """node -> id over the sorted ids as one Arrow array: no Python string per node (a
    list and a dict of a million ids took about 200 MB per process)."""

    def __init__(self, arr: pa.Array) -> None:
        self.arr = arr
        self.sorted = _Sorted(arr)

    def __len__(self) -> int:
        return len(self.arr)

    def __getitem__(self, n: int) -> str:
        return str(self.arr[int(n)].as_py())

    def __iter__(self) -> Iterator[str]:
        return iter(self.arr.to_pylist())

    def take(self, nodes: np.ndarray) -> list[str]:
        """The ids of these nodes, in this order (one ``take``, not a scalar each)."""
        return list(self.arr.take(pa.array(nodes, pa.int64())).to_pylist())


class NodeIndex:
    """id -> node: a binary search in the sorted ids (``NodeIds``), as a mapping."""

    def __init__(self, ids: NodeIds) -> None:
        self._sorted = ids.sorted

    def __len__(self) -> int:
        return len(self._sorted._arr)

    def get(self, nid: str, default: int | None = None) -> int | None:
        found = self._sorted.find(nid) if isinstance(nid, str) else None
        return default if found is None else found

    def __getitem__(self, nid: str) -> int:
        found = self.get(nid)
        if found is None:
            raise KeyError(nid)
        return found

    def __contains__(self, nid: object) -> bool:
        return isinstance(nid, str) and self._sorted.find(nid) is not None


def _ints(col: pa.ChunkedArray | pa.Array, fill: int) -> np.ndarray:
    """A day column with nulls (and zeros: the old ``x or default`` rule) as ``fill``, as
    int32 (half of int64; every day number fits, and a value past int32, not a day, is
    clipped, which orders the same against any day)."""
    arr = np.asarray(pc.fill_null(col.cast(pa.int64()), fill).to_numpy(), dtype=np.int64)
    out = np.clip(arr, _I32.min, _I32.max).astype(np.int32)  # a copy, writable
    out[out == 0] = fill
    return out


def _strings(tables: list[pa.Table], column: str) -> pa.Array:
    chunks: list[pa.Array] = []
    for t in tables:
        col = t.column(column) if column in t.column_names else pa.nulls(t.num_rows)
        chunks.extend(c.cast(pa.large_string()) for c in col.chunks)
    if not chunks:
        return pa.array([], type=pa.large_string())
    return pa.concat_arrays(chunks)


@dataclass
class Projection:
    """Nodes ``0..n-1`` (sorted ids) and claims ``0..m-1`` (undirected CSR over both)."""

    generation: int
    ids: NodeIds  # node -> id (sorted)
    index: NodeIndex  # id -> node
    kind: np.ndarray  # node -> index in _KINDS (int8)
    restricted: np.ndarray  # node -> bool
    names: pa.Array
    subtypes: pa.Array
    dates: pa.Array
    e_a: np.ndarray  # claim -> its from node (int32, as are the days and nbr/eid)
    e_b: np.ndarray  # claim -> its to node
    e_type: np.ndarray  # claim -> index in _TYPES (int8)
    e_from_lo: np.ndarray
    e_from_hi: np.ndarray
    e_to_lo: np.ndarray
    e_to_hi: np.ndarray
    e_conf: np.ndarray  # claim -> confidence rank (int8)
    e_ids: pa.Array  # claim -> claim id
    indptr: np.ndarray  # node -> first slot of its neighbours in nbr/eid
    nbr: np.ndarray  # slot -> neighbour node (ascending within a node)
    eid: np.ndarray  # slot -> claim

    # -- nodes -----------------------------------------------------------------------
    def __contains__(self, nid: str) -> bool:
        return nid in self.index

    def node(self, n: int) -> dict[str, Any]:
        """Display fields of one node (kind, name, subtype, date)."""
        return {"kind": _KINDS[int(self.kind[n])], "name": self.names[n].as_py(),
                "subtype": self.subtypes[n].as_py(), "date": self.dates[n].as_py()}

    def node_ok(self, n: int, include_restricted: bool) -> bool:
        return include_restricted or not bool(self.restricted[n])

    # -- claims ----------------------------------------------------------------------
    def edge_status(self, e: int, at: Bounds) -> Validity:
        if at is None:
            return Validity.VALID
        return validity_on(int(self.e_from_lo[e]), int(self.e_from_hi[e]),
                           int(self.e_to_lo[e]), int(self.e_to_hi[e]), *at)

    def claim_id(self, e: int) -> str:
        return str(self.e_ids[e].as_py())

    def claim_type(self, e: int) -> str:
        return _TYPES[int(self.e_type[e])]

    def claim_from(self, e: int) -> str:
        return self.ids[int(self.e_a[e])]

    def edges_between(self, u: int, v: int) -> list[int]:
        """Every claim joining ``u`` and ``v`` (either direction)."""
        lo, hi = int(self.indptr[u]), int(self.indptr[u + 1])
        nb = self.nbr[lo:hi]
        left, right = np.searchsorted(nb, v, "left"), np.searchsorted(nb, v, "right")
        return [int(x) for x in self.eid[lo + left:lo + right]]

    def _edge_mask(self, e: np.ndarray, at: Bounds) -> np.ndarray:
        """Claims not certainly invalid on ``at`` (``validity_on`` != INVALID)."""
        assert at is not None
        return ~((self.e_from_lo[e] > at[1]) | (self.e_to_hi[e] < at[0]))

    def expand(self, frontier: np.ndarray, *, include_restricted: bool, at: Bounds
               ) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) for every usable claim from a node of ``frontier`` to a neighbour ``v``:
        no self-loops, no restricted neighbour unless allowed, no claim certainly invalid
        on ``at``. Vectorised over the whole frontier (one BFS level in a few numpy ops)."""
        starts = self.indptr[frontier]
        counts = self.indptr[frontier + 1] - starts
        total = int(counts.sum())
        if total == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        offsets = np.cumsum(counts) - counts
        slots = np.repeat(starts - offsets, counts) + np.arange(total)
        v = self.nbr[slots]
        u = np.repeat(frontier, counts)
        mask = v != u
        if not include_restricted:
            mask &= ~self.restricted[v]
        if at is not None:
            mask &= self._edge_mask(self.eid[slots], at)
        return u[mask], v[mask]

    def neighbours(self, u: int, *, include_restricted: bool, at: Bounds) -> np.ndarray:
        _, v = self.expand(np.array([u], dtype=np.int64), include_restricted=include_restricted,
                           at=at)
        return np.unique(v)

    # -- analytics -------------------------------------------------------------------
    def _simple_pairs(self, *, include_restricted: bool, at: Bounds,
                      kinds: set[str] | None) -> tuple[np.ndarray, np.ndarray]:
        """(kept nodes, ascending; their distinct links ``lo * n + hi``, ascending) of the
        simple graph ``simple_graph`` and ``simple_csr`` describe."""
        keep = np.ones(len(self.ids), dtype=bool)
        if kinds is not None:
            codes = [i for i, k in enumerate(_KINDS) if k in kinds]
            keep &= np.isin(self.kind, np.array(codes, dtype=np.int8))
        if not include_restricted:
            keep &= ~self.restricted
        emask = keep[self.e_a] & keep[self.e_b] & (self.e_a != self.e_b)
        if at is not None:
            emask &= self._edge_mask(np.arange(len(self.e_a)), at)
        a, b = self.e_a[emask].astype(np.int64), self.e_b[emask].astype(np.int64)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        pairs = np.sort(lo * len(self.ids) + hi)  # int64: n * n overflows int32
        if pairs.size:  # distinct (np.unique's hash table was 1 s at scale 1, this 30 ms)
            pairs = pairs.compress(np.concatenate([[True], pairs[1:] != pairs[:-1]]))
        return np.flatnonzero(keep), pairs

    def simple_graph(self, *, include_restricted: bool, at: Bounds,
                     kinds: set[str] | None = None) -> nx.Graph:
        """The projection seen by a caller as a simple undirected graph: restricted nodes
        hidden unless allowed, only some node kinds, only claims not certainly invalid on
        ``at``, no self-loops; parallel claims become one edge. Built from the arrays, so
        only the selected part becomes Python objects."""
        nodes, pairs = self._simple_pairs(include_restricted=include_restricted, at=at,
                                          kinds=kinds)
        g = nx.Graph()
        n = len(self.ids)
        g.add_nodes_from(self.ids.take(nodes))
        g.add_edges_from(zip(self.ids.take(pairs // n), self.ids.take(pairs % n)))
        return g

    def simple_csr(self, *, include_restricted: bool, at: Bounds,
                   kinds: set[str] | None = None) -> tuple[np.ndarray, SimpleCSR]:
        """``simple_graph`` as arrays, without a Python object per node or edge: (the
        projection node of each local node ``0..n-1``, the graph on local nodes). Local
        order is ``simple_graph``'s node order (ascending id) and each node's neighbours
        are ascending, which is networkx's adjacency order for that graph: what
        ``queries.centrality`` needs to give networkx's exact figures."""
        nodes, pairs = self._simple_pairs(include_restricted=include_restricted, at=at,
                                          kinds=kinds)
        n = len(self.ids)
        local = np.full(n, -1, dtype=np.int64)
        local[nodes] = np.arange(nodes.size)
        lo, hi = (local.take(pairs // n), local.take(pairs % n)) if n else (pairs, pairs)
        return nodes, SimpleCSR.from_pairs(len(nodes), lo, hi)


_CACHE: weakref.WeakKeyDictionary[Store, Projection] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def projection(store: Store) -> Projection:
    gen = store.generation
    cached = _CACHE.get(store)
    if cached is not None and cached.generation == gen:
        return cached
    with _LOCK:
        cached = _CACHE.get(store)
        if cached is not None and cached.generation == gen:
            return cached
        # shared by the processes serving one read-only database (built by one of them,
        # memory-mapped by all: ``queries.chunked.shared``), else built here
        # mapped as paths touch it (``touch=False``): a path search reaches a small part
        proj: Projection = shared(store, "projection", lambda: _read(store, gen),
                                  _to_arrays, lambda arrays, meta: _from_arrays(arrays, gen),
                                  touch=False)
        _CACHE[store] = proj
        return proj


def _read(store: Store, gen: int) -> Projection:
    with build_reader(store) as source:  # its pool is closed after the build
        return _build(source, gen)


_ARRAY_FIELDS = ("kind", "restricted", "names", "subtypes", "dates", "e_a", "e_b", "e_type",
                 "e_from_lo", "e_from_hi", "e_to_lo", "e_to_hi", "e_conf", "e_ids", "indptr",
                 "nbr", "eid")


def _to_arrays(proj: Projection) -> tuple[dict[str, Any], dict[str, Any]]:
    """The projection as named arrays, for the shared cache files."""
    arrays: dict[str, Any] = {f: getattr(proj, f) for f in _ARRAY_FIELDS}
    arrays["ids"] = proj.ids.arr
    return arrays, {}


def _from_arrays(arrays: dict[str, Any], gen: int) -> Projection:
    """The projection ``_to_arrays`` wrote (memory-mapped arrays: nothing is copied)."""
    ids = NodeIds(arrays["ids"])
    return Projection(generation=gen, ids=ids, index=NodeIndex(ids),
                      **{f: arrays[f] for f in _ARRAY_FIELDS})


def _build(store: Store, gen: int) -> Projection:
    node_tables: list[pa.Table] = []
    kind_codes: list[np.ndarray] = []
    for code, kind_name in enumerate(_KINDS):
        t = store.run_arrow(proj_nodes_query(kind_name))
        if t.num_rows:
            node_tables.append(t)
            kind_codes.append(np.full(t.num_rows, code, dtype=np.int8))
    raw_ids = _strings(node_tables, "id")
    order = pc.sort_indices(raw_ids).to_numpy() if len(raw_ids) else np.empty(0, np.int64)
    ids_arr = raw_ids.take(pa.array(order))
    ids = NodeIds(ids_arr)
    kind = (np.concatenate(kind_codes) if kind_codes else np.empty(0, np.int8))[order]
    restr: list[np.ndarray] = []
    for t in node_tables:
        col = t.column("restricted") if "restricted" in t.column_names else pa.nulls(t.num_rows)
        restr.append(np.asarray(pc.fill_null(col.cast(pa.bool_()), False).to_numpy(
            zero_copy_only=False), dtype=bool))
    restricted = (np.concatenate(restr) if restr else np.empty(0, bool))[order]
    take = pa.array(order)
    names = _strings(node_tables, "name").take(take)
    subtypes = _strings(node_tables, "subtype").take(take)
    dates = _strings(node_tables, "date").take(take)

    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "a", "b", "type", "from_lo", "from_hi", "to_lo", "to_hi", "conf")}
    id_chunks: list[pa.Array] = []
    conf_codes = pa.array(["high", "medium", "low"])
    for code, rel_type in enumerate(_TYPES):
        t = store.run_arrow(proj_rels_query(rel_type))
        if not t.num_rows:
            continue
        a = pc.index_in(t.column("a").cast(pa.large_string()), value_set=ids_arr)
        b = pc.index_in(t.column("b").cast(pa.large_string()), value_set=ids_arr)
        ok = pc.and_(pc.is_valid(a), pc.is_valid(b))
        t = t.filter(ok)
        if not t.num_rows:
            continue
        a_np = np.asarray(pc.drop_null(a).to_numpy(), dtype=np.int32)
        b_np = np.asarray(pc.drop_null(b).to_numpy(), dtype=np.int32)
        cols["a"].append(a_np)
        cols["b"].append(b_np)
        cols["type"].append(np.full(t.num_rows, code, dtype=np.int8))
        cols["from_lo"].append(_ints(t.column("from_lo"), MIN_DAY))
        cols["from_hi"].append(_ints(t.column("from_hi"), MAX_DAY))
        cols["to_lo"].append(_ints(t.column("to_lo"), MIN_DAY))
        cols["to_hi"].append(_ints(t.column("to_hi"), MAX_DAY))
        conf = pc.index_in(t.column("confidence").cast(pa.string()), value_set=conf_codes)
        cols["conf"].append(np.asarray(pc.fill_null(conf, 3).to_numpy(), dtype=np.int8))
        id_chunks.extend(c.cast(pa.large_string()) for c in t.column("id").chunks)

    def cat(k: str, dtype: Any) -> np.ndarray:
        return np.concatenate(cols[k]).astype(dtype) if cols[k] else np.empty(0, dtype)

    e_a, e_b = cat("a", np.int32), cat("b", np.int32)
    m, n = len(e_a), len(ids)
    src = np.concatenate([e_a, e_b])
    dst = np.concatenate([e_b, e_a])
    eid = np.concatenate([np.arange(m, dtype=np.int32), np.arange(m, dtype=np.int32)])
    order2 = np.lexsort((eid, dst, src))
    del src
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(np.concatenate([e_a, e_b]), minlength=n), out=indptr[1:])
    return Projection(
        generation=gen, ids=ids, index=NodeIndex(ids), kind=kind, restricted=restricted,
        names=names, subtypes=subtypes, dates=dates,
        e_a=e_a, e_b=e_b, e_type=cat("type", np.int8),
        e_from_lo=cat("from_lo", np.int32), e_from_hi=cat("from_hi", np.int32),
        e_to_lo=cat("to_lo", np.int32), e_to_hi=cat("to_hi", np.int32),
        e_conf=cat("conf", np.int8),
        e_ids=pa.concat_arrays(id_chunks) if id_chunks else pa.array([], pa.large_string()),
        indptr=indptr, nbr=dst[order2], eid=eid[order2])


def edge_rank(proj: Projection, e: int, at: Bounds) -> tuple[int, int, str]:
    """Which of several parallel claims a path shows: certain ones first, then the most
    confident, then by id (so answers are stable)."""
    status = proj.edge_status(e, at)
    return (0 if status is Validity.VALID else 1, int(proj.e_conf[e]), proj.claim_id(e))


def shortest_paths(proj: Projection, a: str, b: str, *, include_restricted: bool,
                   at: Bounds, max_len: int, limit: int
                   ) -> tuple[int | None, list[list[str]]]:
    """All shortest paths between ``a`` and ``b`` (up to ``max_len`` claims), the first
    ``limit`` of them in lexicographic order of their node ids.

    A bidirectional breadth-first search (each side expands its smaller frontier, one
    vectorised step per level) finds the distance while exploring about the square root
    of what a one-sided search would; the nodes lying on shortest paths are then marked
    back from the meeting layer and the paths are listed in order by a depth-first walk
    over them. Restricted nodes (for callers without access) and claims certainly invalid
    on ``at`` are not walked through.
    """
    ia, ib = proj.index.get(a), proj.index.get(b)
    if ia is None or ib is None or not proj.node_ok(ia, include_restricted) \
            or not proj.node_ok(ib, include_restricted):
        return None, []
    if ia == ib:
        return 0, [[a]]
    if max_len > 100:  # the distances are bytes (``_Scratch``)
        raise ValueError(f"max_len {max_len} is above 100")
    scratch = _take_scratch(len(proj.ids))
    try:
        return _bidirectional(proj, ia, ib, scratch, include_restricted=include_restricted,
                              at=at, max_len=max_len, limit=limit)
    finally:
        scratch.reset()
        _give_back(scratch)


class _Scratch:
    """A thread's distance and mark arrays over every node, kept between questions:
    filling four arrays of a million entries cost a millisecond a question, while a
    search touches a few thousand entries, which are put back after it."""

    def __init__(self, n: int) -> None:
        # distances fit a byte (a path has at most 20 claims: ``GraphQueries.paths``)
        self.da = np.full(n, -1, dtype=np.int8)
        self.db = np.full(n, -1, dtype=np.int8)
        self.on_a = np.zeros(n, dtype=bool)
        self.on_b = np.zeros(n, dtype=bool)
        self.touched: list[np.ndarray] = []

    def reset(self) -> None:
        for idx in self.touched:
            self.da[idx] = -1
            self.db[idx] = -1
            self.on_a[idx] = False
            self.on_b[idx] = False
        self.touched.clear()


_SPARE: list[_Scratch] = []  # put back after use; a question takes one or makes one
_SPARE_KEPT = 1  # an API worker's threads take turns on the interpreter lock: one is kept
_SPARE_LOCK = threading.Lock()


def _take_scratch(n: int) -> _Scratch:
    with _SPARE_LOCK:
        while _SPARE:
            mine = _SPARE.pop()
            if len(mine.da) == n:
                return mine
    return _Scratch(n)


def _give_back(scratch: _Scratch) -> None:
    with _SPARE_LOCK:
        if len(_SPARE) < _SPARE_KEPT:
            _SPARE.append(scratch)


def _bidirectional(proj: Projection, ia: int, ib: int, scratch: _Scratch, *,
                   include_restricted: bool, at: Bounds, max_len: int, limit: int
                   ) -> tuple[int | None, list[list[str]]]:
    """``shortest_paths`` between two distinct usable nodes, on ``scratch``'s arrays
    (every entry it sets is listed in ``scratch.touched``)."""
    da, db, touched = scratch.da, scratch.db, scratch.touched
    fa = np.array([ia], dtype=np.int64)
    fb = np.array([ib], dtype=np.int64)
    touched += [fa, fb]
    da[ia] = 0
    db[ib] = 0
    la = lb = 0
    meet = np.empty(0, dtype=np.int64)
    kw: dict[str, Any] = {"include_restricted": include_restricted, "at": at}
    while fa.size and fb.size and la + lb < max_len:
        if fa.size <= fb.size:
            _, v = proj.expand(fa, **kw)
            v = np.unique(v)
            v = v[da[v] < 0]
            la += 1
            touched.append(v)
            da[v] = la
            fa = v
            meet = fa[db[fa] >= 0]
        else:
            _, v = proj.expand(fb, **kw)
            v = np.unique(v)
            v = v[db[v] < 0]
            lb += 1
            touched.append(v)
            db[v] = lb
            fb = v
            meet = fb[da[fb] >= 0]
        if meet.size:
            break
    if not meet.size:
        return None, []
    sums = da[meet] + db[meet]
    length = int(sums.min())
    if length > max_len:
        return None, []
    mids = meet[sums == length]
    pos = int(da[mids[0]])  # every meeting node sits at the same distance from a
    # mark the nodes on shortest paths: back to a, on to b (each one a reached node,
    # already listed as touched)
    on_a, on_b = scratch.on_a, scratch.on_b
    on_a[mids] = True
    layer = mids
    for i in range(pos, 0, -1):
        _, v = proj.expand(layer, **kw)
        layer = np.unique(v[da[v] == i - 1])
        on_a[layer] = True
    on_b[mids] = True
    layer = mids
    for i in range(length - pos, 0, -1):
        _, v = proj.expand(layer, **kw)
        layer = np.unique(v[db[v] == i - 1])
        on_b[layer] = True
    out: list[list[int]] = []

    def walk(path: list[int]) -> None:
        if len(out) >= limit:
            return
        i = len(path) - 1
        if i == length:
            out.append(list(path))
            return
        nxt_pos = i + 1
        for v in proj.neighbours(path[-1], **kw).tolist():
            if nxt_pos <= pos:
                good = bool(on_a[v]) and int(da[v]) == nxt_pos
            else:
                good = bool(on_b[v]) and int(db[v]) == length - nxt_pos
            if good:
                path.append(v)
                walk(path)
                path.pop()
                if len(out) >= limit:
                    return

    walk([ia])
    return length, [[proj.ids[x] for x in p] for p in out]
