"""Degree and betweenness centrality on numpy arrays, for ``GraphQueries.analytics``.

Why not networkx: at scale 1 the Person+Organization projection has ~580k nodes; building
a networkx ``Graph`` of string ids for it and running ``betweenness_centrality(k=500)`` in
pure Python did not finish in 13 minutes (issue #7). Here the graph is a CSR pair
(``indptr``, ``nbr``) of integers and Brandes' algorithm walks a whole BFS level per numpy
call, so the Python overhead is per level, not per edge.

The results are the *same numbers* networkx returns, not an approximation of them:

* the sampled sources are the ones ``nx.betweenness_centrality(G, k, seed=s)`` draws
  (``random.Random(s).sample(list(G), k)``: the draw depends only on ``len(G)`` and ``k``,
  so sampling ``range(n)`` yields the positions of the same nodes, given that the local
  node order is the order of ``G``'s nodes);
* every floating-point sum is done in the order networkx does it: with neighbours in
  ascending order (networkx's adjacency order for a graph whose edges were added in
  ascending ``(lo, hi)`` order, as ``Projection.simple_graph`` does), the BFS queue order
  is "by first discovering parent, then by node", path counts ``sigma`` add up in queue
  order and dependencies ``delta`` add up in reverse queue order of the successors;
  ``np.bincount`` adds its weights sequentially, so each sum has the same terms in the
  same order. Scores are then bit-identical, and so are rankings with near-ties.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

# How many betweenness sources walk at once: enough to share numpy's per-call cost on
# small or deep graphs, few enough that the per-batch state (17 bytes a core node and
# source) stays in cache; on large cores one source at a time is fastest.
SCRATCH_BYTES = 16 << 20
MAX_BATCH = 64


@dataclass(frozen=True)
class SimpleCSR:
    """A simple undirected graph on local nodes ``0..n-1``: no self-loops, no parallel
    edges; the neighbours of ``u`` are ``nbr[indptr[u]:indptr[u + 1]]``, ascending. Each
    edge appears twice (once from each end)."""

    indptr: np.ndarray  # int64, n + 1
    nbr: np.ndarray  # int64, 2m

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    @property
    def m(self) -> int:
        return len(self.nbr) // 2

    @staticmethod
    def from_pairs(n: int, lo: np.ndarray, hi: np.ndarray) -> SimpleCSR:
        """From unique pairs ``lo < hi`` of local nodes."""
        src = np.concatenate([lo, hi]).astype(np.int64)
        dst = np.concatenate([hi, lo]).astype(np.int64)
        order = np.argsort(src * max(n, 1) + dst, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
        return SimpleCSR(indptr=indptr, nbr=dst[order])


def degree_centrality(g: SimpleCSR) -> np.ndarray:
    """``nx.degree_centrality``: degree / (n - 1), computed as networkx does
    (``d * (1.0 / (n - 1.0))``). For n <= 1 every score is 0 (the service's rule)."""
    if g.n <= 1:
        return np.zeros(g.n, dtype=np.float64)
    return np.diff(g.indptr).astype(np.float64) * (1.0 / (g.n - 1.0))


def sample_sources(n: int, k: int | None, seed: int) -> list[int] | None:
    """The positions of the nodes ``nx.betweenness_centrality(G, k=k, seed=seed)`` uses as
    sources (``None``: all of them, in order), for a graph of ``n`` nodes."""
    if k is None or k == n:
        return None
    return random.Random(seed).sample(range(n), k)


def betweenness_centrality(g: SimpleCSR, k: int | None = None, seed: int = 7,
                           scratch_bytes: int = SCRATCH_BYTES) -> np.ndarray:
    """``nx.betweenness_centrality(G, k=k, seed=seed)`` (normalized, no endpoints,
    unweighted, undirected) for the graph ``G`` whose nodes are ``0..n-1`` in that order.

    Brandes' algorithm: a level-synchronous BFS counts shortest paths forward, then the
    dependencies are accumulated level by level backward, for a batch of sources at once
    (``_Brandes``). Leaves (degree-1 nodes) are taken out of the walk (``_Pruned``): in the
    scale-1 graph they are nine nodes in ten, and what they add is known without walking
    them. Memory: the graph, plus about ``scratch_bytes`` of per-batch state.
    """
    n = g.n
    sources = sample_sources(n, k, seed)
    pruned = _Pruned.of(g)
    size = max(1, len(pruned.node))
    walker = _Brandes(pruned, batch=max(1, min(MAX_BATCH, scratch_bytes // (17 * size))))
    bc_core = np.zeros(len(pruned.node), dtype=np.float64)
    todo = list(range(n)) if sources is None else sources
    for i in range(0, len(todo), walker.batch):
        walker.accumulate(todo[i:i + walker.batch], bc_core)
    bc = np.zeros(n, dtype=np.float64)
    bc[pruned.node] = bc_core
    return _rescale(bc, n, sources)


def _rescale(bc: np.ndarray, n: int, sources: list[int] | None) -> np.ndarray:
    """networkx's ``_rescale`` (normalized, undirected, endpoints=False), same scales."""
    big_n = n - 1
    if big_n < 2:
        return bc
    if sources is None:
        scale = 1 / (big_n * (big_n - 1))
        if scale != 1:
            bc *= scale
        return bc
    k = len(sources)
    scale_source = 1 / ((k - 1) * (big_n - 1)) if k > 1 else math.nan
    scale_nonsource = 1 / (k * (big_n - 1))
    is_source = np.zeros(n, dtype=bool)
    is_source[np.asarray(sources, dtype=np.int64)] = True
    bc[is_source] *= scale_source
    bc[~is_source] *= scale_nonsource
    return bc


@dataclass(frozen=True)
class _Pruned:
    """The graph without its leaves: a leaf is a degree-1 node whose neighbour (its
    parent) has degree >= 2. A leaf is never between two other nodes (its betweenness is
    0), it is reached from its parent one level further, by as many paths, and adds
    ``sigma[p] * (1 / sigma[p])`` to its parent's dependency; so a BFS need only walk the
    core and put the leaves of each level back where networkx's queue has them. The core
    keeps the original node order (``node`` ascending) and adjacency order."""

    node: np.ndarray  # core label -> node
    label: np.ndarray  # node -> core label (-1: a leaf)
    parent: np.ndarray  # node -> core label of its parent (-1: not a leaf)
    indptr: np.ndarray  # core CSR, in core labels
    nbr: np.ndarray
    lptr: np.ndarray  # core label -> its leaves leaf[lptr[c]:lptr[c + 1]] (nodes, ascending)
    leaf: np.ndarray

    @staticmethod
    def of(g: SimpleCSR) -> _Pruned:
        n = g.n
        deg = np.diff(g.indptr)
        one = np.flatnonzero(deg == 1)
        nb = g.nbr.take(g.indptr.take(one))
        leaves = one.compress(deg.take(nb) >= 2)
        is_core = np.ones(n, dtype=bool)
        is_core[leaves] = False
        node = np.flatnonzero(is_core)
        label = np.full(n, -1, dtype=np.int64)
        label[node] = np.arange(node.size)
        row = np.repeat(np.arange(n), deg)
        keep = is_core.take(row) & is_core.take(g.nbr)
        indptr = np.zeros(node.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(label.take(row.compress(keep)), minlength=node.size),
                  out=indptr[1:])
        parent = np.full(n, -1, dtype=np.int64)
        parent[leaves] = label.take(g.nbr.take(g.indptr.take(leaves)))
        by_parent = np.argsort(parent.take(leaves), kind="stable")  # ids stay ascending
        lptr = np.zeros(node.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(parent.take(leaves), minlength=node.size), out=lptr[1:])
        return _Pruned(node=node, label=label, parent=parent, indptr=indptr,
                       nbr=label.take(g.nbr.compress(keep)), lptr=lptr,
                       leaf=leaves.take(by_parent))


def _ranges(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in ``rows``, slot) for every slot ``ptr[r]..ptr[r + 1]`` of the ``rows``,
    in row order."""
    starts = ptr.take(rows)
    counts = ptr.take(rows + 1) - starts
    total = int(counts.sum())
    if total == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    offsets = np.cumsum(counts) - counts
    slots = np.repeat(starts - offsets, counts)
    slots += np.arange(total)
    return np.repeat(np.arange(len(rows)), counts), slots


class _Brandes:
    """Shortest-path counting and dependency accumulation for a batch of sources over a
    ``_Pruned`` graph.

    The batch walks ``batch`` copies of the core at once, source i in copy i (node ``v``
    of copy i is ``i * C + v``): copies never meet, so each BFS level is the copies'
    levels one after the other and every per-source rule below holds copy by copy, while
    numpy's per-call overhead is paid once per level of the batch, not per source (which
    matters for deep graphs).

    Networkx's order, which every floating-point sum here follows: the BFS queue holds
    level d+1 "by first parent (its position in level d), then by node" (adjacency is
    ascending and the queue is FIFO); when the stack is popped (reverse queue order),
    each node's dependency receives ``sigma[v] * (1 + delta[w]) / sigma[w]`` from its
    successors w in that order. The successors of v whose first parent is v (its *own*
    block, leaves included) come last in the queue, so first off the stack: a node's sum
    is its own block, backwards, then its other successors, backwards. Sources add to
    ``bc`` one after the other, in sample order.

    The work is gathers over edge-sized arrays, so the code keeps them few and cheap:
    ``take``/``compress`` rather than ``a[idx]``/``a[mask]`` (same result, several times
    faster here), and per-level compact arrays indexed by rank in the level."""

    def __init__(self, p: _Pruned, batch: int) -> None:
        self.p = p
        self.batch = batch
        size = batch * len(p.node)
        self.reached = np.zeros(size, dtype=bool)
        # scratch, _BIG outside a step: the first edge naming a node (forward), a node's
        # rank in its level (backward)
        self.slot = np.full(size, _BIG, dtype=np.int64)
        self.acc = np.zeros(size, dtype=np.float64)  # dependencies, copy by copy

    def _out(self, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``level``, neighbour) for every core edge out of ``level``
        (nodes of copies), in level order then adjacency order."""
        if self.batch == 1:
            pos, slots = _ranges(self.p.indptr, level)
            return pos, self.p.nbr.take(slots)
        size = len(self.p.node)
        rows = level % size
        pos, slots = _ranges(self.p.indptr, rows)
        return pos, self.p.nbr.take(slots) + (level - rows).take(pos)

    def accumulate(self, sources: list[int], bc: np.ndarray) -> None:
        """Add the dependencies of ``sources`` (nodes of the full graph) to ``bc`` (core
        labels), as networkx's ``_single_source_shortest_path_basic`` then
        ``_accumulate_basic`` would, source after source. A leaf's BFS is its parent's,
        one level down: its parent is then not the source (it gets a dependency) and
        the leaf is not one of its successors."""
        p, reached, slot, acc = self.p, self.reached, self.slot, self.acc
        size = len(p.node)
        copies = np.arange(len(sources))
        src = np.asarray(sources, dtype=np.int64)
        label = p.label.take(src)
        is_leaf = label < 0
        level = np.where(is_leaf, p.parent.take(src), label) + copies * size
        excluded = np.where(is_leaf, src, -1)  # per copy: the leaf source, if any
        reached[level] = True
        levels: list[np.ndarray] = [level]  # BFS levels, each in queue order
        sigmas: list[np.ndarray] = [np.ones(level.size)]  # path counts, same order
        firsts: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]  # first parent's position
        while True:  # forward
            pos, w = self._out(level)
            fresh = ~reached.take(w)  # not in an earlier level
            pos, w = pos.compress(fresh), w.compress(fresh)
            if not w.size:
                break
            edge = np.arange(w.size)
            np.minimum.at(slot, w, edge)
            first = slot.take(w)  # the first edge naming each new node ...
            is_first = first == edge
            nxt = w.compress(is_first)  # ... orders the next level (the queue is FIFO)
            slot[nxt] = _BIG
            rank = (np.cumsum(is_first) - 1).take(first)  # of each edge's w, in nxt
            # sigma[w] = sum of sigma over its parents, in queue order of the parents
            sig = np.bincount(rank, weights=sigmas[-1].take(pos), minlength=nxt.size)
            reached[nxt] = True
            levels.append(nxt)
            sigmas.append(sig)
            firsts.append(pos.compress(is_first))
            level = nxt
        for lv in levels:
            reached[lv] = False
        delta: np.ndarray = np.zeros(0)
        empty = np.zeros(0, dtype=np.int64)
        n_all = len(p.label)
        for d in range(len(levels) - 1, -1 if is_leaf.any() else 0, -1):  # backward
            here, sig_here = levels[d], sigmas[d]
            nxt = levels[d + 1] if d + 1 < len(levels) else empty
            fp = firsts[d + 1] if d + 1 < len(levels) else empty
            coeff = (1 + delta) / sigmas[d + 1] if nxt.size else np.zeros(0)
            # own blocks: the core nodes of level d+1 and the leaves of level d's nodes,
            # merged in queue order (first parent, then node), then popped backwards
            lpos, lslots = _ranges(p.lptr, here % size)
            leaves = p.leaf.take(lslots)
            if d == 0:
                other = leaves != excluded.take(lpos)  # level 0: one node per copy
                lpos, leaves = lpos.compress(other), leaves.compress(other)
            if leaves.size:
                at = np.searchsorted(lpos * n_all + leaves, fp * n_all + p.node.take(nxt % size))
                at += np.arange(nxt.size)
                leaf_at = np.ones(leaves.size + nxt.size, dtype=bool)
                leaf_at[at] = False
                own_fp = np.empty(leaf_at.size, dtype=np.int64)
                own_fp[at] = fp
                own_fp[leaf_at] = lpos
                own_coeff = np.empty(leaf_at.size)
                own_coeff[at] = coeff
                own_coeff[leaf_at] = 1 / sig_here.take(lpos)  # (1 + 0) / sigma[leaf]
            else:
                own_fp, own_coeff = fp, coeff
            own_fp, own_coeff = own_fp[::-1], own_coeff[::-1]
            # then the other successors: core edges back from level d+1, popped backwards
            slot[here] = np.arange(here.size)
            pos, v = self._out(nxt[::-1])
            r = slot.take(v)
            slot[here] = _BIG
            other = (r != _BIG) & (r != fp[::-1].take(pos))  # a parent, not the first
            pos, r = pos.compress(other), r.compress(other)
            to = np.concatenate([own_fp, r])
            c = np.concatenate([own_coeff, coeff[::-1].take(pos)])
            delta = np.bincount(to, weights=sig_here.take(to) * c, minlength=here.size)
            if d:
                acc[here] = delta
            else:  # the parents of leaf sources are not sources
                acc[here.compress(is_leaf)] = delta.compress(is_leaf)
        for i in copies.tolist():  # in sample order, as networkx adds them
            bc += acc[i * size:(i + 1) * size]
        acc[:len(sources) * size] = 0.0


_BIG = np.iinfo(np.int64).max
