"""The hierarchy relations held in process, per store generation (``structure``).

A chain of command or an accountability question walks posts, memberships and the
organisation tree many times; doing it on arrays in process instead of one engine round trip
per step is what makes a chain cost a few milliseconds at a million nodes.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.dates import MAX_DAY, MIN_DAY
from graph.store import Store
from queries.chunked import (
    Arrays,
    build_reader,
    copied,
    read_pieces,
    shared,
    table_pool,
)
from queries.column_reader import Reader, reader
from queries.cypher import (
    CLAIM_COLUMNS,
    STRUCTURE_TYPES,
    structure_extras,
    structure_node_fields,
    structure_query,
)
from queries.kept import Halves

_I32 = np.iinfo(np.int32)
# a claim's bound columns and what a missing one widens to (the edge queries' coalesce)
_BOUNDS = {"from_lo": MIN_DAY, "from_hi": MAX_DAY, "to_lo": MIN_DAY, "to_hi": MAX_DAY}


def _days(arr: pa.Array) -> np.ndarray:
    """Day numbers (yyyymmdd, no nulls) as int32, half of int64's memory: every day fits,
    and a value past int32 (not a day) is clipped, which orders the same against any day."""
    big = np.asarray(arr.to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.clip(big, _I32.min, _I32.max).astype(np.int32)


def _read_columns(store: Store, rel_type: str) -> dict[str, pa.Array]:
    """A structure table's columns, read in pieces (``queries.chunked``: one piece's result
    in the pool at a time) and copied out of the engine's results, each piece let go as
    soon as it is copied; the ``type`` column (the table's own name) is not kept, nor,
    once numbered, the ends' ids (``Structure``)."""
    pieces: dict[str, list[pa.Array]] = {}
    types: dict[str, pa.DataType] = {}
    for t in read_pieces(store, structure_query(rel_type)):
        for c in t.column_names:
            if c == "type":
                continue
            types[c] = t.schema.field(c).type
            if t.num_rows:
                pieces.setdefault(c, []).append(copied(t.column(c)))
        del t
    return {c: (pa.concat_arrays(pieces[c]) if len(pieces.get(c, ())) > 1
                else pieces[c][0] if c in pieces else pa.array([], typ))
            for c, typ in types.items()}


def _in_id_order(cols: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """A table's rows sorted by claim id (then ends): the engine's row order is not fixed
    (it scans with several threads, and two reads of one file were seen to differ), and
    claim numbers and adjacency order follow the row order; sorted, every build of one
    database numbers its claims alike."""
    keys = [k for k in ("id", "a_id", "b_id") if k in cols]
    if not cols or not keys or len(cols[keys[0]]) < 2:
        return cols
    order = pc.sort_indices(pa.table({k: cols[k] for k in keys}),
                            sort_keys=[(k, "ascending") for k in keys])
    return {c: arr.take(order) for c, arr in cols.items()}


def _same(*value: Any) -> Any:
    """The identity of ``shared``'s conversions (the build is already arrays and meta)."""
    return value[0] if len(value) == 1 else value


def _read(store: Store) -> tuple[Arrays, dict[str, Any]]:
    """The hierarchy's arrays (named as ``Structure`` holds them) and its tables' layout.

    Read through a build reader (``queries.chunked.build_reader``), whose pool is closed
    once read; the numbers (nodes, claims, rows, days, CSR) are int32 or smaller."""
    out: Arrays = {}
    tables: list[list[Any]] = []
    ends_a: list[pa.Array] = []
    ends_b: list[pa.Array] = []
    t_code: list[np.ndarray] = []
    t_row: list[np.ndarray] = []
    t_has: list[np.ndarray] = []
    t_hi: list[np.ndarray] = []
    t_restr: list[np.ndarray] = []
    t_brestr: list[np.ndarray] = []
    t_ahead: list[np.ndarray] = []
    t_bhead: list[np.ndarray] = []
    t_bounds: dict[str, list[np.ndarray]] = {c: [] for c in _BOUNDS}
    read: dict[str, dict[str, pa.Array]] = {}
    for rel_type in STRUCTURE_TYPES:
        # a reader (a pool of its own, closed when read) per table: the results of the
        # earlier tables' joins stayed in the pool (at 512 MiB the third table's read failed
        # for want of room), while each table alone fits in 512 MiB
        with build_reader(store, table_pool()) as source:
            read[rel_type] = _read_columns(source, rel_type)
    for rel_type in STRUCTURE_TYPES:
        cols = _in_id_order(read.pop(rel_type))
        n_rows = len(cols["a_id"]) if cols else 0
        if not n_rows:
            continue
        code = len(tables)
        a_hi = cols.get("a_date_hi")
        a_date = cols.get("a_date")
        if a_hi is not None and a_date is not None:
            has = pc.and_(pc.is_valid(a_hi), pc.fill_null(pc.not_equal(
                a_date.cast(pa.string()), ""), False))
            t_has.append(np.asarray(pc.fill_null(has, False).to_numpy(
                zero_copy_only=False), dtype=bool))
            t_hi.append(_days(pc.fill_null(a_hi.cast(pa.int64()), 0)))
        else:
            t_has.append(np.zeros(n_rows, dtype=bool))
            t_hi.append(np.zeros(n_rows, dtype=np.int32))
        a_r = cols.get("a_restricted")
        t_restr.append(np.zeros(n_rows, dtype=bool) if a_r is None else np.asarray(
            pc.fill_null(a_r.cast(pa.bool_()), False).to_numpy(zero_copy_only=False),
            dtype=bool))
        for side, flags in (("a", t_ahead), ("b", t_bhead)):
            h = cols.get(side + "_is_head")
            flags.append(np.zeros(n_rows, dtype=bool) if h is None else (
                np.asarray(pc.fill_null(h, False).to_numpy(zero_copy_only=False),
                           dtype=bool) if pa.types.is_boolean(h.type)
                else np.ones(n_rows, dtype=bool)))  # not a flag: keep all (no filter)
        b_r = cols.get("b_restricted")
        t_brestr.append(np.zeros(n_rows, dtype=bool) if b_r is None else np.asarray(
            pc.fill_null(b_r.cast(pa.bool_()), False).to_numpy(zero_copy_only=False),
            dtype=bool))
        for c, missing in _BOUNDS.items():
            t_bounds[c].append(_days(pc.fill_null(cols[c].cast(pa.int64()), missing)))
        # the ends become node numbers below; their strings are not kept per claim
        ends_a.append(cols.pop("a_id").cast(pa.large_string()))
        ends_b.append(cols.pop("b_id").cast(pa.large_string()))
        t_code.append(np.full(n_rows, code, dtype=np.int8))
        t_row.append(np.arange(n_rows, dtype=np.int32))
        for c, arr in cols.items():
            out[f"{code}.{c}"] = arr
        tables.append([rel_type, list(cols), structure_extras(rel_type),
                       structure_node_fields(rel_type, 0), structure_node_fields(rel_type, 1)])
    meta = {"tables": tables}
    if not tables:
        i32, i8, flag = np.empty(0, np.int32), np.empty(0, np.int8), np.empty(0, bool)
        out.update(ids=pa.array([], pa.large_string()), c_code=i8, n_code=i8, n_side=i8,
                   c_row=i32, c_a=i32, c_b=i32, n_row=i32, a_date_hi=i32, c_from_lo=i32,
                   c_from_hi=i32, c_to_lo=i32, c_to_hi=i32, a_dated=flag,
                   a_restricted=flag, n_restricted=flag, n_head=flag,
                   ptr_out=np.zeros(1, np.int32), ptr_in=np.zeros(1, np.int32),
                   slot_out=i32, slot_in=i32, bp_ptr_up=np.zeros(1, np.int32), bp_up=i32,
                   bp_ptr_head=np.zeros(1, np.int32), bp_head=i32, bp_open_up=flag,
                   bp_open_head=flag)
        return out, meta
    all_a, all_b = pa.concat_arrays(ends_a), pa.concat_arrays(ends_b)
    uniq = pc.unique(pa.concat_arrays([all_a, all_b]))
    out["ids"] = uniq
    c_code, c_row = np.concatenate(t_code), np.concatenate(t_row)
    out.update(c_code=c_code, c_row=c_row, a_dated=np.concatenate(t_has),
               a_date_hi=np.concatenate(t_hi))
    a_restricted = np.concatenate(t_restr)
    out["a_restricted"] = a_restricted
    for c in _BOUNDS:
        out["c_" + c] = np.concatenate(t_bounds[c])
    c_a = np.asarray(pc.index_in(all_a, value_set=uniq).to_numpy(), dtype=np.int32)
    c_b = np.asarray(pc.index_in(all_b, value_set=uniq).to_numpy(), dtype=np.int32)
    out.update(c_a=c_a, c_b=c_b)
    del all_a, all_b, ends_a, ends_b
    n = len(uniq)
    for direction, key in (("out", c_a), ("in", c_b)):
        ptr = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(np.bincount(key, minlength=n), out=ptr[1:])
        out["ptr_" + direction] = ptr
        out["slot_" + direction] = np.argsort(key, kind="stable").astype(np.int32)
    # where each node's display fields are read from: its first appearance
    ends = np.concatenate([c_a, c_b])
    _, first = np.unique(ends, return_index=True)
    del ends
    m = len(c_a)
    out["n_side"] = (first >= m).astype(np.int8)
    claim_of = np.where(first >= m, first - m, first)
    out["n_code"], out["n_row"] = c_code[claim_of], c_row[claim_of]
    # each node's restricted flag, read where ``node`` reads its display fields
    b_restricted = np.concatenate(t_brestr)
    out["n_restricted"] = np.where(first >= m, b_restricted[claim_of],
                                   a_restricted[claim_of])
    # each node's is_head flag, likewise (True where it cannot be told: a pre-filter)
    out["n_head"] = np.where(first >= m, np.concatenate(t_bhead)[claim_of],
                             np.concatenate(t_ahead)[claim_of])
    out.update(_breakpoints(out, [t[0] for t in tables], n))
    return out, meta


def _breakpoints(out: Arrays, types: list[str], n: int) -> Arrays:
    """Per node, the days at which what holds of its parents (its PART_OF claims) and of
    its heads (its head posts' POSITION_IN claims and their HOLDS) can change: each such
    claim's from_lo, from_hi, to_lo + 1 and to_hi + 1, sorted and distinct, as CSR arrays
    (``bp_up``/``bp_head`` with ``bp_ptr_up``/``bp_ptr_head``). Hidden claims and posts not
    marked heads are counted too: a bound more only makes an interval shorter."""
    code = {t: i for i, t in enumerate(types)}
    c_code, c_a, c_b = out["c_code"], out["c_a"], out["c_b"]

    def claims(rel_type: str) -> np.ndarray:
        if rel_type not in code:
            return np.empty(0, np.int64)
        return np.flatnonzero(c_code == code[rel_type])

    def bounds(cs: np.ndarray) -> np.ndarray:
        return np.concatenate([out["c_from_lo"][cs], out["c_from_hi"][cs],
                               out["c_to_lo"][cs].astype(np.int64) + 1,
                               out["c_to_hi"][cs].astype(np.int64) + 1])

    def csr(nodes: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys = np.unique((nodes.astype(np.int64) << 32) | days.astype(np.int64))
        ptr = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(np.bincount((keys >> 32).astype(np.int64), minlength=n), out=ptr[1:])
        return ptr, (keys & 0xFFFFFFFF).astype(np.int32)

    ups = claims("PART_OF")
    pins = claims("POSITION_IN")
    pins = pins[out["n_head"][c_a[pins]]]
    # each HOLDS into a head post counts for every organisation that post is in
    holds = claims("HOLDS")
    by_post = np.argsort(c_a[pins], kind="stable")
    posts_sorted = c_a[pins][by_post]
    left = np.searchsorted(posts_sorted, c_b[holds], side="left")
    right = np.searchsorted(posts_sorted, c_b[holds], side="right")
    counts = right - left
    hold_rep = np.repeat(holds, counts)
    within = np.arange(len(hold_rep)) - np.repeat(np.cumsum(counts) - counts, counts)
    pin_of = by_post[np.repeat(left, counts) + within]
    head_orgs = np.concatenate([c_b[pins], c_b[pins[pin_of]]])
    head_cs = np.concatenate([pins, hold_rep])
    up_ptr, up = csr(np.tile(c_a[ups], 4), bounds(ups))
    head_ptr, head = csr(np.tile(head_orgs, 4), bounds(head_cs))
    # open: the node and every other end counted for it are unrestricted, so what a part
    # holds is the same whether restricted records are shown or hidden
    restricted = out["n_restricted"]

    def is_open(nodes: np.ndarray, other_ends: np.ndarray) -> np.ndarray:
        hidden = np.bincount(nodes, weights=restricted[other_ends], minlength=n)
        return (hidden == 0) & ~restricted

    return {"bp_ptr_up": up_ptr, "bp_up": up, "bp_ptr_head": head_ptr, "bp_head": head,
            "bp_open_up": is_open(c_a[ups], c_b[ups]),
            "bp_open_head": is_open(head_orgs, c_a[head_cs])}


class Structure:
    """The hierarchy relations (posts, memberships, the organisation tree, designations)
    held in process, per store generation, so that a chain of command costs no round trip.

    Built from the engine's Arrow tables (about 550,000 claims at scale 1 in a couple of
    seconds): the columns stay Arrow arrays, adjacency is two CSR arrays over integer node
    numbers, and a claim's or a node's fields become Python dicts only when a question
    touches them (a bounded cache keeps the often-touched ones, such as the heads of the
    top organisations). The rows handed out are those the named edge queries return.

    Memory (scale 1): read through a build reader per table (``queries.chunked``), whose
    pool is closed once read; the numbers (nodes, claims, rows, days, CSR) are int32 or
    smaller, half of int64: 270 MB of arrays, plus the ids as Python strings (about 40 MB).
    A read-only database's arrays are memory-mapped from files that the processes serving
    it share (``queries.chunked.shared``): one copy for all of them."""

    def __init__(self, store: Store) -> None:
        self.generation = store.generation
        # rows built for answers, kept while they are used (``queries.kept.Halves``)
        self._claims: Halves[dict[str, Any]] = Halves(STRUCTURE_CACHED // 2)
        self._nodes: Halves[tuple[str, dict[str, Any]]] = Halves(STRUCTURE_CACHED // 2)
        self._type_masks: dict[frozenset[str], np.ndarray] = {}
        self._readers: dict[int, Reader] = {}
        # shared by the processes serving one read-only database (built by one of them,
        # memory-mapped by all: ``queries.chunked.shared``), else built here
        arrays, meta = shared(store, "structure", lambda: _read(store), _same, _same)
        self.tables: list[tuple[str, dict[str, pa.Array], list[str], list[str], list[str]]] = [
            (rel_type, {c: arrays[f"{code}.{c}"] for c in cols}, extras, a_fields, b_fields)
            for code, (rel_type, cols, extras, a_fields, b_fields) in enumerate(meta["tables"])]
        # a type's x_* row keys, in order
        self.extra_keys: dict[str, tuple[str, ...]] = {
            t[0]: tuple("x_" + f for f in t[2]) for t in self.tables}
        # the node ids as Python strings (answers hand them out), and their numbers
        self.ids: list[str] = arrays["ids"].to_pylist()
        self.index: dict[str, int] = {nid: i for i, nid in enumerate(self.ids)}
        self.c_code: np.ndarray = arrays["c_code"]
        self.c_row: np.ndarray = arrays["c_row"]
        self.c_a: np.ndarray = arrays["c_a"]
        self.c_b: np.ndarray = arrays["c_b"]
        # the from-end's date (an incident's), for "earlier incidents" without building rows
        self.a_dated: np.ndarray = arrays["a_dated"]
        self.a_date_hi: np.ndarray = arrays["a_date_hi"]
        self.a_restricted: np.ndarray = arrays["a_restricted"]
        # each claim's validity bounds, missing ones already widened (the Cypher coalesce)
        self.c_from_lo: np.ndarray = arrays["c_from_lo"]
        self.c_from_hi: np.ndarray = arrays["c_from_hi"]
        self.c_to_lo: np.ndarray = arrays["c_to_lo"]
        self.c_to_hi: np.ndarray = arrays["c_to_hi"]
        # adjacency (CSR): the claims leaving (out) / entering (in) node n are
        # slot[d][ptr[d][n]:ptr[d][n + 1]]
        self.ptr: dict[str, np.ndarray] = {d: arrays["ptr_" + d] for d in ("out", "in")}
        self.slot: dict[str, np.ndarray] = {d: arrays["slot_" + d] for d in ("out", "in")}
        # where each node's display fields are read from (its first appearance), and its
        # restricted and is_head flags read there
        self.n_side: np.ndarray = arrays["n_side"]
        self.n_code: np.ndarray = arrays["n_code"]
        self.n_row: np.ndarray = arrays["n_row"]
        self.n_restricted: np.ndarray = arrays["n_restricted"]
        self.n_head: np.ndarray = arrays["n_head"]
        # where what holds of a node's parents / heads can change (``_breakpoints``), read
        # as memoryviews: ``bisect`` on a few values costs less than a numpy call
        self._bp: tuple[tuple[memoryview, memoryview], ...] = tuple(
            (memoryview(arrays["bp_ptr_" + k]), memoryview(arrays["bp_" + k]))
            for k in ("up", "head"))
        self._bp_open: tuple[np.ndarray, ...] = tuple(arrays["bp_open_" + k]
                                                      for k in ("up", "head"))

    def neighbours(self, direction: str, nid: str) -> list[tuple[int, str]]:
        """(claim, other end) of the claims leaving (out) or entering (in) ``nid``."""
        n = self.index.get(nid)
        if n is None:
            return []
        ptr = self.ptr[direction]
        claims = self.slot[direction][int(ptr[n]):int(ptr[n + 1])].tolist()
        other = self.c_b if direction == "out" else self.c_a
        return [(c, self.ids[int(other[c])]) for c in claims]

    def select(self, direction: str, nids: Sequence[str], types: set[str], d_lo: int,
               d_hi: int, include_restricted: bool, heads_only: bool = False
               ) -> list[tuple[str, int, str, bool]]:
        """(node, claim, other end, certainly valid) of the claims of ``types`` leaving
        (out) or entering (in) each of ``nids``, in adjacency order, keeping only those
        whose other end is visible and that are not certainly invalid in [d_lo, d_hi].

        Decided on the arrays so that no row is built for the claims dropped (at a date,
        most posts into an organisation and most holders of its head posts are): the same
        arithmetic as ``GraphQueries._structure_edge`` on the widened bounds. With
        ``heads_only`` the claims whose other end is not a head post (``o_is_head``
        false or missing) are dropped too."""
        index = self.index
        ns = [index[nid] for nid in nids if nid in index]
        if not ns:
            return []
        ptr, slot = self.ptr[direction], self.slot[direction]
        if len(ns) == 1:
            a, b = int(ptr[ns[0]]), int(ptr[ns[0] + 1])
            if a == b:
                return []
            cs = slot[a:b]
            src: np.ndarray | None = None
        else:
            na = np.asarray(ns)
            starts, ends = ptr[na].tolist(), ptr[na + 1].tolist()
            counts = [b - a for a, b in zip(starts, ends)]
            if not any(counts):
                return []
            cs = np.concatenate([slot[a:b] for a, b in zip(starts, ends)])
            src = np.repeat(np.arange(len(ns)), counts)
        keep = self._type_mask(types)[self.c_code[cs]]
        keep &= self.c_from_lo[cs] <= d_hi
        keep &= self.c_to_hi[cs] >= d_lo
        others = (self.c_b if direction == "out" else self.c_a)[cs]
        if not include_restricted:
            keep &= ~self.n_restricted[others]
        if heads_only:
            keep &= self.n_head[others]
        pos = np.flatnonzero(keep)
        if not len(pos):
            return []
        cs, others = cs[pos], others[pos]
        valid = (self.c_from_hi[cs] <= d_lo) & (self.c_to_lo[cs] >= d_hi)
        ids = self.ids
        if src is None:
            nid = ids[ns[0]]
            return [(nid, c, ids[o], v) for c, o, v in zip(
                cs.tolist(), others.tolist(), valid.tolist())]
        return [(ids[ns[s]], c, ids[o], v) for s, c, o, v in zip(
            src[pos].tolist(), cs.tolist(), others.tolist(), valid.tolist())]

    def interval(self, oid: str, side: int, lo: int, hi: int) -> tuple[int, int]:
        """Which interval of the node's breakpoints (``_breakpoints``; side 0: its parents,
        1: its heads) the days ``lo`` and ``hi`` fall in: every claim counted there has one
        status for every date with the same pair, so an answer part built for one of them
        holds for all."""
        n = self.index.get(oid)
        if n is None:
            return (0, 0)
        ptr, days = self._bp[side]
        a, b = ptr[n], ptr[n + 1]
        if a == b:
            return (0, 0)
        return (bisect_right(days, lo, a, b) - a, bisect_right(days, hi, a, b) - a)

    def is_open(self, oid: str, side: int) -> bool:
        """Whether the node and every other end ``interval`` counts for it (side 0: its
        parents, 1: its head posts and their holders) are unrestricted: a part built for
        it then reads the same to callers who may see restricted records and to those
        who may not."""
        n = self.index.get(oid)
        return n is not None and bool(self._bp_open[side][n])

    def _type_mask(self, types: set[str]) -> np.ndarray:
        """Which tables hold claims of ``types``, indexed by table code (cached)."""
        key = frozenset(types)
        tmask = self._type_masks.get(key)
        if tmask is None:
            tmask = np.array([t[0] in types for t in self.tables], dtype=bool)
            self._type_masks[key] = tmask
        return tmask

    def type_of(self, c: int) -> str:
        return self.tables[int(self.c_code[c])][0]

    def latest_before(self, oid: str, types: set[str], before: int, include_restricted: bool,
                      exclude: str | None, k: int) -> tuple[int, list[tuple[int, str, int]]]:
        """``earlier`` for a notice list: how many such claims there are (leaving out those
        from ``exclude``, the act asked about) and only the ones that can be among the
        ``k`` most recent (every claim whose date reaches the k-th latest, ties included).
        A prison may have hundreds of earlier incidents: they are counted on the arrays
        and only the few shown become Python tuples."""
        n = self.index.get(oid)
        if n is None:
            return 0, []
        ptr = self.ptr["in"]
        cs = self.slot["in"][int(ptr[n]):int(ptr[n + 1])]
        keep = self._type_mask(types)[self.c_code[cs]] & self.a_dated[cs] & (
            self.a_date_hi[cs] < before)
        if not include_restricted:
            keep &= ~self.a_restricted[cs]
        x = self.index.get(exclude) if exclude is not None else None
        if x is not None:
            keep &= self.c_a[cs] != x
        cs = cs[keep]
        total = len(cs)
        if total > k > 0:
            his = self.a_date_hi[cs]
            cs = cs[his >= np.partition(his, total - k)[total - k]]
        ids = self.ids
        return total, [(hi, ids[a], c) for hi, a, c in zip(
            self.a_date_hi[cs].tolist(), self.c_a[cs].tolist(), cs.tolist())]

    def prefetch(self, cs: Sequence[int], others: Sequence[str]) -> None:
        """Build the rows of claims ``cs`` and the display fields of nodes ``others`` not
        yet cached, a table at a time (``_values``): an answer meets hundreds of claims for
        the first time."""
        todo = sorted({c for c in cs if self._claims.get(c) is None})
        if todo:
            arr = np.asarray(todo)
            codes, rows = self.c_code[arr], self.c_row[arr]
            for code in np.unique(codes).tolist():
                pick = codes == code
                for c, row in zip(arr[pick].tolist(), self._claim_rows(code, rows[pick])):
                    self._claims.put(c, row)
        index = self.index
        nodes = sorted({o for o in others if self._nodes.get(o) is None and o in index})
        if nodes:
            ns = np.asarray([index[o] for o in nodes])
            codes, rows, sides = self.n_code[ns], self.n_row[ns], self.n_side[ns]
            for code in np.unique(codes).tolist():
                for side in (0, 1):
                    pick = (codes == code) & (sides == side)
                    if not pick.any():
                        continue
                    found = self._node_rows(code, side, rows[pick])
                    for nid, hit in zip(np.asarray(nodes, dtype=object)[pick].tolist(), found):
                        self._nodes.put(nid, hit)

    def _claim_rows(self, code: int, rows: np.ndarray) -> list[dict[str, Any]]:
        """Claims of table ``code`` at ``rows``, as the edge queries name their columns."""
        rel_type, cols, extras, _, _ = self.tables[code]
        names = [*CLAIM_COLUMNS, *("x_" + f for f in extras)]
        values = [self._values(cols[k], rows) for k in names]
        out = [dict(zip(names, vs)) for vs in zip(*values)]
        for row in out:
            row["type"] = rel_type
        return out

    def _node_rows(self, code: int, side: int, rows: np.ndarray
                   ) -> list[tuple[str, dict[str, Any]]]:
        """(kind, ``o_*`` display fields) of the nodes read at ``rows`` of table ``code``
        (``side`` 0: the claims' from-ends, 1: their to-ends)."""
        _, cols, _, a_fields, b_fields = self.tables[code]
        prefix, fields = ("b_", b_fields) if side else ("a_", a_fields)
        labels = self._values(cols[prefix + "label"], rows)
        values = [self._values(cols[prefix + f], rows) for f in fields]
        keys = [f"o_{f}" for f in fields]
        return [(str(label), dict(zip(keys, vs))) for label, *vs in zip(labels, *values)]

    def _values(self, column: pa.Array, rows: np.ndarray) -> list[Any]:
        """A column's values at ``rows`` as Python atoms: one Arrow ``take`` for many rows
        (about a tenth of reading each value on its own), value by value from the column's
        buffers for a few (``queries.column_reader``; a ``take`` costs about as much as
        reading ten)."""
        if len(rows) >= PREFETCH_MIN:
            return [_atom(v) for v in column.take(pa.array(rows)).to_pylist()]
        read = self._readers.get(id(column))  # the columns live as long as this structure
        if read is None:
            read = self._readers[id(column)] = reader(column)
        return [read(r) for r in rows.tolist()]

    def claim(self, c: int) -> dict[str, Any]:
        """The claim's columns as the edge queries name them (built once, then kept)."""
        hit = self._claims.get(c)
        if hit is None:
            hit = self._claim_rows(int(self.c_code[c]), np.asarray([self.c_row[c]]))[0]
            self._claims.put(c, hit)
        return hit

    def node(self, nid: str) -> tuple[str, dict[str, Any]]:
        """(kind, ``o_*`` display fields) of a node at a structure claim's end."""
        hit = self._nodes.get(nid)
        if hit is None:
            n = self.index[nid]
            hit = self._node_rows(int(self.n_code[n]), int(self.n_side[n]),
                                  np.asarray([self.n_row[n]]))[0]
            self._nodes.put(nid, hit)
        return hit


def _atom(value: Any) -> Any:
    """A list value (source ids) as a tuple: a cached row then holds only atoms, and the
    garbage collector stops tracking it (100,000 tracked rows made each full collection
    cost about 100 ms more; ``queries.gc_policy``)."""
    return tuple(value) if isinstance(value, list) else value


STRUCTURES: weakref.WeakKeyDictionary[Store, Structure] = weakref.WeakKeyDictionary()
STRUCTURE_SET = frozenset(STRUCTURE_TYPES)
# claims (and nodes) kept as dicts, at most (two halves). 40,000 rather than 100,000 since
# organisations' parts are kept per date interval (``GraphQueries._org_parts``: a kept part
# needs no rows): 63 MiB less per process after 4,000 mixed questions, no slower measured
STRUCTURE_CACHED = 40_000
PREFETCH_MIN = 12  # rows of one table worth a batch read (an Arrow take costs ~10 values)
STRUCTURE_LOCK = threading.Lock()


def structure(store: Store) -> Structure:
    cached = STRUCTURES.get(store)
    if cached is not None and cached.generation == store.generation:
        return cached
    with STRUCTURE_LOCK:  # one build per generation, however many threads ask
        cached = STRUCTURES.get(store)
        if cached is not None and cached.generation == store.generation:
            return cached
        st = Structure(store)
        STRUCTURES[store] = st
        return st
