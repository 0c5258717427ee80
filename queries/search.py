"""Name search across scripts and transliterations, on the project's own name keys.

The embedded engine has no offline full-text index, and scanning every node's
``name_keys`` list is a full scan, so the stored keys are loaded once into an in-process
inverted index (key -> node ids), rebuilt when ``store.generation`` changes. Candidates are
the nodes sharing a key with the query (``graph.names``: normalised tokens and consonant
skeletons, which bridge Persian script and Latin spellings); the scorer below ranks them
with rapidfuzz on two forms of each name: the normalised text (same script) and the
skeleton (across scripts and transliteration schemes).
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from graph.model import NODE_KINDS
from graph.names import normalise, query_keys, skeleton, tokens
from graph.store import Store
from queries.cypher import keys_query

MIN_SCORE = 60.0
MAX_CANDIDATES = 100  # candidates scored per query (those sharing the rarest keys first)
COMMON_KEY = 2_000  # a key on more nodes than this is "common" (see NameIndex.candidates)
SKELETON_WEIGHT = 0.92  # a skeleton match is good evidence, but weaker than the letters


@dataclass(frozen=True)
class Named:
    id: str
    kind: str
    name: str
    subtype: str | None
    date: str | None
    restricted: bool
    names: tuple[str, ...]


@dataclass(frozen=True)
class _Forms:
    norm: str  # normalised text
    skel: str  # consonant skeletons of the tokens, space-separated
    units: tuple[str, ...]  # tokens, adjacent pairs joined, and all tokens joined
    skel_units: tuple[str, ...]
    toks: tuple[str, ...]
    skel_toks: tuple[str, ...]


def _units(toks: list[str]) -> tuple[str, ...]:
    out = list(toks) + [a + b for a, b in zip(toks, toks[1:])]
    if len(toks) > 2:
        out.append("".join(toks))
    return tuple(dict.fromkeys(u for u in out if u))


@lru_cache(maxsize=65536)
def _forms(text: str) -> _Forms:
    toks = tokens(text)
    skels = [skeleton(t) for t in toks]
    return _Forms(" ".join(toks), " ".join(s for s in skels if s), _units(toks),
                  _units([s for s in skels if s]), tuple(toks), tuple(s for s in skels if s))


@lru_cache(maxsize=4096)
def _variants(toks: tuple[str, ...]) -> list[list[str]]:
    """The query's tokens as typed, with each adjacent pair joined, and all joined:
    "Gholam Hossein" must meet "Gholamhossein" (and the reverse is in the name units)."""
    out = [list(toks)]
    if 1 < len(toks) <= 6:
        for i in range(len(toks) - 1):
            out.append(list(toks[:i]) + [toks[i] + toks[i + 1]] + list(toks[i + 2:]))
        out.append(["".join(toks)])
    return out


def _best_ratio(u: str, units: tuple[str, ...]) -> float:
    hit = process.extractOne(u, units, scorer=fuzz.ratio)  # the loop runs in C
    return float(hit[1]) if hit else 0.0


def _unit_score(q_toks: tuple[str, ...], n_units: tuple[str, ...]) -> float:
    if not q_toks or not n_units:
        return 0.0
    best = 0.0
    for i, variant in enumerate(_variants(q_toks)):
        total = 0.0
        for u in variant:
            s = _best_ratio(u, n_units)
            if i and u not in q_toks and s < 95:
                s = 0.0  # a joined pair only counts when it is (nearly) a name unit
            total += s
        best = max(best, total / len(variant))
    return best


def score_name(query: str, name: str) -> float:
    """How well ``name`` matches ``query`` (0..100).

    The best of: token-set similarity of the normalised texts (so a query whose tokens are
    all in the name, "Mohseni" for "Gholamhossein Mohseni-Ejei", scores 100); the mean,
    over the query's tokens, of each token's best match among the name's tokens and joined
    token pairs (so "Gholam-Hossein" meets "Gholamhossein" and "Ejehi" meets "Ejei"); and
    that mean again on consonant skeletons, slightly discounted, which is what matches
    Persian script against Latin spellings.
    """
    q, n = _forms(query), _forms(name)
    if not q.norm or not n.norm:
        return 0.0
    text = max(float(fuzz.token_set_ratio(q.norm, n.norm)), _unit_score(q.toks, n.units))
    skel = 0.0
    if q.skel and n.skel:
        skel = _unit_score(q.skel_toks, n.skel_units)
    return round(max(text, SKELETON_WEIGHT * skel), 1)


def best_name(query: str, names: tuple[str, ...]) -> tuple[float, str]:
    best = (0.0, names[0] if names else "")
    for n in names:
        s = score_name(query, n)
        if s > best[0] or (s == best[0] and n < best[1] and s > 0):
            best = (s, n)
    return best


def rank(query: str, candidates: list[Named], limit: int) -> list[tuple[Named, float, str]]:
    """Score and order candidates: score, then name, then id (stable for tests)."""
    scored: list[tuple[Named, float, str]] = []
    for c in candidates:
        s, matched = best_name(query, c.names)
        if s >= MIN_SCORE:
            scored.append((c, s, matched))
    scored.sort(key=lambda t: (-t[1], t[0].name.lower(), t[0].id))
    return scored[:limit]


def parse_names(name: str | None, names_json: str | None) -> tuple[str, ...]:
    out: list[str] = [name] if name else []
    if names_json:
        try:
            for e in json.loads(names_json):
                n = e.get("name") if isinstance(e, dict) else None
                if n and n not in out:
                    out.append(n)
        except (ValueError, TypeError):
            pass
    return tuple(out)


class _Nodes:
    """``id -> Named`` over the index's columns: a Named is made when asked for (a bounded
    cache keeps recent ones), so the index holds no Python object per node."""

    def __init__(self, index: "NameIndex") -> None:
        self._index = index

    def __len__(self) -> int:
        return self._index.size

    def __getitem__(self, nid: str) -> Named:
        i = self._index.position(nid)
        if i is None:
            raise KeyError(nid)
        return self._index.named(i)

    def __contains__(self, nid: object) -> bool:
        return isinstance(nid, str) and self._index.position(nid) is not None


class NameIndex:
    """Inverted index of the stored name keys, rebuilt when the store's generation moves.

    Columnar, because at a million nodes a dict of key -> id lists plus a ``Named`` per
    node took 32 s and 2.2 GB to build per process: here the engine's Arrow columns are
    kept as they come, the distinct keys are one sorted Arrow array (binary search), and a
    key's postings are a slice of one numpy array; ties between equal scores go by id, as
    before, through each node's rank in id order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._store_id: int | None = None
        self.size = 0
        self._sorted_keys = pa.array([], pa.large_string())
        self._sorted_ids = pa.array([], pa.large_string())
        self._id_order = np.empty(0, dtype=np.int64)
        self._rank = np.empty(0, dtype=np.int64)
        self._ptr = np.zeros(1, dtype=np.int64)
        self._post = np.empty(0, dtype=np.int64)
        self._kind = np.empty(0, dtype=np.int8)
        self._restricted = np.empty(0, dtype=bool)
        self._cols: dict[str, pa.Array] = {}
        self._kinds: list[str] = []
        self._named: dict[int, Named] = {}
        self.nodes = _Nodes(self)

    def ensure(self, store: Store) -> None:
        gen = store.generation
        if self._generation == gen and self._store_id == id(store):
            return
        with self._lock:
            if self._generation == gen and self._store_id == id(store):
                return
            self._build(store)
            self._generation, self._store_id = gen, id(store)

    def _build(self, store: Store) -> None:
        tables: list[pa.Table] = []
        kinds: list[str] = []
        codes: list[np.ndarray] = []
        wanted = ("id", "name", "names", "name_keys", "restricted", "subtype", "date")
        for kind, nk in NODE_KINDS.items():
            if not nk.searchable:
                continue
            t = store.run_arrow(keys_query(kind))
            if not t.num_rows:
                continue
            cols = []
            for c in wanted:
                col = t.column(c) if c in t.column_names else pa.nulls(t.num_rows)
                typ = pa.list_(pa.string()) if c == "name_keys" else (
                    pa.bool_() if c == "restricted" else pa.string())
                cols.append(col if col.type == typ else col.cast(typ))  # no copy if typed
            tables.append(pa.table(cols, names=list(wanted)))
            codes.append(np.full(t.num_rows, len(kinds), dtype=np.int8))
            kinds.append(kind)
        if not tables:  # an empty graph: nothing to find
            self.size = 0
            self._sorted_keys = pa.array([], pa.large_string())
            self._sorted_ids = pa.array([], pa.large_string())
            self._post, self._ptr = np.empty(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
            self._named = {}
            return
        table = pa.concat_tables(tables).combine_chunks()
        del tables
        self._kind = np.concatenate(codes)
        self._kinds = kinds
        self.size = n = table.num_rows
        self._cols = {c: table.column(c).chunk(0) if table.column(c).num_chunks
                      else pa.array([], table.schema.field(c).type)
                      for c in ("id", "name", "names", "subtype", "date")}
        # nodes stay in the engine's order; their rank in id order breaks score ties
        id_order = pc.sort_indices(self._cols["id"])
        self._id_order = np.asarray(id_order.to_numpy(), dtype=np.int64)
        self._sorted_ids = self._cols["id"].take(id_order)
        self._rank = np.empty(n, dtype=np.int64)
        self._rank[self._id_order] = np.arange(n)
        self._restricted = np.asarray(pc.fill_null(table.column("restricted"), False)
                                      .to_numpy(zero_copy_only=False), dtype=bool)
        keys = table.column("name_keys").combine_chunks()
        parent = np.asarray(pc.list_parent_indices(keys).to_numpy(), dtype=np.int64)
        enc = pc.list_flatten(keys).dictionary_encode()
        key_codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        # the distinct keys, sorted (looked up by binary search: no dict of millions of keys)
        k_order = pc.sort_indices(enc.dictionary)
        self._sorted_keys = enc.dictionary.take(k_order)
        k_rank = np.empty(len(enc.dictionary), dtype=np.int32)
        k_rank[np.asarray(k_order.to_numpy(), dtype=np.int64)] = np.arange(
            len(enc.dictionary), dtype=np.int32)
        ranked = k_rank[key_codes]
        self._post = parent[np.argsort(ranked, kind="stable")]
        self._ptr = np.zeros(len(enc.dictionary) + 1, dtype=np.int64)
        np.cumsum(np.bincount(ranked, minlength=len(enc.dictionary)), out=self._ptr[1:])
        self._named = {}

    @staticmethod
    def _find(sorted_arr: pa.Array, value: str) -> int | None:
        lo, hi = 0, len(sorted_arr)
        while lo < hi:  # binary search over a sorted Arrow string array
            mid = (lo + hi) // 2
            if sorted_arr[mid].as_py() < value:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(sorted_arr) and sorted_arr[lo].as_py() == value else None

    def position(self, nid: str) -> int | None:
        """A node's row in the index, or None."""
        i = self._find(self._sorted_ids, nid)
        return None if i is None else int(self._id_order[i])

    def named(self, i: int) -> Named:
        hit = self._named.get(i)
        if hit is not None:
            return hit
        if len(self._named) >= 200_000:
            self._named.clear()
        c = self._cols
        nid = c["id"][i].as_py()
        name = c["name"][i].as_py()
        node = Named(nid, self._kinds[int(self._kind[i])], name or nid, c["subtype"][i].as_py(),
                     c["date"][i].as_py(), bool(self._restricted[i]),
                     parse_names(name, c["names"][i].as_py()))
        self._named[i] = node
        return node

    def _posting(self, key: str) -> np.ndarray:
        code = self._find(self._sorted_keys, key)
        if code is None:
            return self._post[:0]
        return self._post[int(self._ptr[code]):int(self._ptr[code + 1])]

    def candidates(self, text: str, *, kinds: set[str] | None,
                   include_restricted: bool) -> list[Named]:
        # Rarest keys first, each weighted by its rarity (idf), so a rare surname outweighs
        # a common first name; a very common key is only counted while too few keys have
        # been (it then narrows, as an intersection would, instead of flooding).
        total = max(self.size, 1)
        parts: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        counted, rare_seen = 0, False
        for post in sorted((self._posting(k) for k in query_keys(text)), key=len):
            if not len(post):
                continue
            if len(post) > COMMON_KEY and (rare_seen or counted >= 2):
                continue
            parts.append(post)
            weights.append(np.full(len(post), math.log(1.0 + total / len(post))))
            counted += 1
            rare_seen = rare_seen or len(post) <= COMMON_KEY
        if not parts:
            return []
        nodes, inverse = np.unique(np.concatenate(parts), return_inverse=True)
        # summed in the order the keys were counted, as the weights were added before
        scores = np.bincount(inverse, weights=np.concatenate(weights))
        ordered = nodes[np.lexsort((self._rank[nodes], -scores))][:4 * MAX_CANDIDATES]
        if kinds is not None:
            codes = [i for i, k in enumerate(self._kinds) if k in kinds]
            ordered = ordered[np.isin(self._kind[ordered], codes)]
        if not include_restricted:
            ordered = ordered[~self._restricted[ordered]]
        return [self.named(int(i)) for i in ordered[:MAX_CANDIDATES]]
